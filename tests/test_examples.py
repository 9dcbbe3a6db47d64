"""Every example script runs, offline, and prints what its docstring promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ._tables import markdown_tables, percent

# The classical examples, run as they are. Helpers (``_*.py``) are modules, and the
# deep examples take minutes in full mode: tests/test_deep_examples.py and
# tests/test_finetune_examples.py run those in their --quick mode.
_DEEP = {"image_transfer.py", "text_transfer.py", "layer_search.py", "finetune_images.py", "finetune_text.py"}
# Examples that read the shared benchmark data in full mode run here in --quick mode.
_QUICK = {"model_selection.py"}
EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(
    p for p in EXAMPLE_DIR.glob("*.py")
    if not p.name.startswith("_") and p.name not in _DEEP | _QUICK
)


def _table(out: str) -> dict[str, float]:
    return {
        line.split("|")[1].strip(): float(line.split("|")[2].strip().rstrip("%"))
        for line in out.splitlines()
        if line.startswith("| ") and "%" in line
    }


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script):
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    if script.name == "quickstart.py":
        # The README's story: adaptation beats training on the source alone.
        rows = _table(proc.stdout)
        baseline = rows["no adaptation (source rows only)"]
        assert rows["CORAL"] > baseline + 10
        assert rows["TCA (d=30, rbf)"] > baseline + 10
    if script.name == "reweighting.py":
        # Every weighter improves the misspecified model on the target rows.
        r2 = {
            line.split("|")[1].strip(): float(line.split("|")[2])
            for line in proc.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| weighting")
        }
        baseline = r2.pop("none (source rows as they are)")
        assert len(r2) == 7 and all(v > baseline + 0.05 for v in r2.values()), r2


def test_model_selection_example_quick(tmp_path):
    png = tmp_path / "shift.png"
    proc = subprocess.run([sys.executable, str(EXAMPLE_DIR / "model_selection.py"), "--quick", "--png", str(png)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert png.stat().st_size > 10_000
    rows = {r[0]: r for r in markdown_tables(proc.stdout)[-1][1:]}
    oracle = percent(rows["oracle (uses the target labels)"][2])
    assert len(rows) == 8
    for cells in rows.values():
        # every pick is a real grid point: at most the oracle, and its gap column agrees
        assert percent(cells[2]) <= oracle
        assert float(cells[3]) == pytest.approx(oracle - percent(cells[2]), abs=0.11)
