"""The benchmark still runs end to end (`python -m bench.run --quick`); timings are never checked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bench import per_request, run


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


@pytest.mark.slow
def test_per_request_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--messages", "40", "--ids", "20", "--requests", "200", "--rounds", "1"]
    # Its own thread, as from a shell: it runs its own event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(per_request.main, argv).result()
    out = capsys.readouterr().out
    assert "single message, kept:" in out and "ratio (bare / single message):" in out
