"""Reading the markdown tables that examples and benchmarks print."""

from __future__ import annotations


def markdown_tables(out: str) -> list[list[list[str]]]:
    """Markdown tables of ``out``: for each, its rows (header first), each a list of cells."""
    tables, current = [], []
    for line in out.splitlines() + [""]:
        if line.startswith("|"):
            if not line.startswith("|---"):
                current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def percent(cell: str) -> float:
    """``"84.4%"`` (or ``"84.4% ± 1.2"``) as 84.4, checked to be a percentage."""
    assert cell.endswith("%") or "%" in cell, cell
    value = float(cell.split("±")[0].strip().rstrip("%"))
    assert 0.0 <= value <= 100.0, cell
    return value
