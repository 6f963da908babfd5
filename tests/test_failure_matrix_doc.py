"""docs/failure-matrix.md promises that every error comes with advice: each row that shows an Error line
must show its Hint line too, so a new row can't be added without one."""

from __future__ import annotations

from pathlib import Path

MATRIX = Path(__file__).resolve().parents[1] / "docs" / "failure-matrix.md"


def test_every_error_row_in_the_failure_matrix_shows_a_hint():
    rows = [line for line in MATRIX.read_text().splitlines() if line.startswith("|") and "Error:" in line]
    assert len(rows) > 40
    missing = [row[:120] for row in rows if "Hint:" not in row]
    assert missing == []
