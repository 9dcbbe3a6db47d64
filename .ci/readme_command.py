"""Print one of the README's two commands ("demo" or "test"), so CI runs exactly them.

The README opens with two fenced ``bash`` blocks: the first sets up and runs the
demo, the second sets up and runs the tests.
"""

import re
import sys
from pathlib import Path

blocks = re.findall(r"```bash\n(.*?)```", Path(__file__).resolve().parents[1].joinpath("README.md").read_text(), re.S)
which = {"demo": 0, "test": 1}[sys.argv[1]]
print(blocks[which].strip())
