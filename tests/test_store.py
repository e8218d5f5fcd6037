"""The store: SQLite durability settings and the migration lock."""

from __future__ import annotations

import subprocess
import sys

import pytest

from answerdesk.store.engine import create_engine_for_url
from answerdesk.store.migrate import current_revision, head_revision, is_current, upgrade


def test_sqlite_runs_wal_with_full_sync(tmp_path) -> None:
    engine = create_engine_for_url(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_upgrade_is_idempotent_and_current(engine) -> None:
    assert is_current(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_concurrent_upgrades_do_not_race(database_url, tmp_path) -> None:
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        pytest.skip("a fresh PostgreSQL database per test is covered by the session fixture")
    code = (
        "import sys; from answerdesk.store.engine import create_engine_for_url;"
        "from answerdesk.store.migrate import upgrade; upgrade(create_engine_for_url(sys.argv[1]))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
    assert is_current(create_engine_for_url(url))
