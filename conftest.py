"""Collection rules shared by the test suite and the doctests.

Without the ``[torch]`` extra, the deep-learning doctests and tests cannot run;
they are left out instead of failing (CI installs the extra, so there they run).
"""

import importlib.util

collect_ignore_glob = []
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob += ["sktransfer/deep/*", "tests/deep/*", "tests/test_deep_examples.py"]
