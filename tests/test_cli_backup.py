"""`answerdesk db backup FILE`."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from answerdesk.cli import cli
from tests.factories import Desk


def test_backup_copies_a_consistent_sqlite_database(database_url, desk: Desk, tmp_path) -> None:
    account = desk.account()
    desk.take(account, content="kept in the backup")
    target = tmp_path / "backup.db"
    result = CliRunner().invoke(cli, ["--database", database_url, "db", "backup", str(target)])
    if not database_url.startswith("sqlite"):
        assert result.exit_code == 1
        assert "pg_dump" in result.output
        assert not target.exists()
        return
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT content FROM messages").fetchall() == [("kept in the backup",)]
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
