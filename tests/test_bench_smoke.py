"""The benchmark still runs end to end (`python -m bench.run --quick`); timings are never checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import run


@pytest.mark.slow
def test_quick_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    report = run.main(["--quick", "--workdir", str(tmp_path), "--json", str(tmp_path / "b.json")])
    figures = [row.figure for row in report.rows]
    assert figures[0].startswith("1 floor")
    assert any(figure.startswith("2 GET /v1/messages") for figure in figures)
    assert any(figure.startswith("4 ") for figure in figures)  # figures, or "n/a (no wrk)"
    assert (tmp_path / "b.json").read_bytes().startswith(b"{")
    for row in report.rows:
        assert "ERRORS" not in row.value, row
