"""The malloc thresholds `serve` fixes (heap.py): big answers stop costing page faults."""

from __future__ import annotations

import importlib
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from answerdesk import app as app_module
from answerdesk import heap
from answerdesk.cli.main import cli

#: The module, not the command of the same name that `answerdesk.cli` exports.
serve_module = importlib.import_module("answerdesk.cli.serve")

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

#: What a busy moment of a server does, as the fast path builds a range's body
#: (listing.joined_wires): three ~2 MB answers of 1,024 stored renders each
#: alive at once, then freed, thirty times over. Prints the minor page faults.
_BURSTS = """
import random, resource, sys
from answerdesk.heap import keep_heap_for_big_answers
if sys.argv[1] == "tuned":
    assert keep_heap_for_big_answers()
sizes = random.Random(1)
prefix = b'{"account_number":"100001",'
def answer():
    wires = [b"x" * sizes.randint(1700, 2100) for _ in range(1024)]
    return b"[" + prefix + (b"," + prefix).join(wires) + b"]"
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    bodies = [answer() for _ in range(3)]
    del bodies
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(heap.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", _BURSTS, mode], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stdout)


@glibc_only
def test_big_answers_reuse_the_heap_instead_of_faulting_in_fresh_pages() -> None:
    untuned, tuned = _faults("default"), _faults("tuned")
    # Untuned, glibc gives the freed megabytes back and faults them in again
    # on most bursts (~64,000 faults measured); tuned, only the first bursts
    # touch new pages (~3,400: the heap grows once to what a burst needs).
    assert tuned * 5 < untuned
    assert tuned < 10_000


@pytest.mark.parametrize(
    "environ",
    [
        {"MALLOC_TRIM_THRESHOLD_": "1048576"},
        {"MALLOC_MMAP_THRESHOLD_": "1048576"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1048576"},
    ],
)
def test_an_operator_s_own_malloc_settings_are_left_alone(environ: dict[str, str]) -> None:
    assert heap.operator_tuned(environ)
    assert heap.keep_heap_for_big_answers(environ) is False


def test_unrelated_tunables_do_not_count_as_tuning() -> None:
    assert not heap.operator_tuned({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"})


def test_serve_fixes_the_thresholds_before_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    order: list[str] = []
    monkeypatch.setattr(serve_module, "keep_heap_for_big_answers", lambda: order.append("heap"))
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda *a, **k: order.append("uvicorn"))
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(cli, ["--database", database, "serve", "--no-worker"])
    assert result.exit_code == 0, result.output
    assert order == ["heap", "uvicorn"]


def test_worker_processes_fix_the_thresholds_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(app_module, "keep_heap_for_big_answers", lambda: calls.append("heap"))
    monkeypatch.setenv("ANSWERDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'worker.db'}")
    app_module.create_app_from_env()
    assert calls == ["heap"]
