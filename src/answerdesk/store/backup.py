"""Online backups of a SQLite database (PostgreSQL has pg_dump for that)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupUnsupported(Exception):
    """The database is not one answerdesk backs up itself."""


def backup_sqlite(engine: Engine, destination: Path) -> int:
    """Copy the live database to `destination` and verify the copy; return its size.

    Uses SQLite's online backup API, so agents keep taking messages while it
    runs and the copy is one consistent snapshot. The copy is written next to
    the destination and renamed into place only once `integrity_check` passes,
    so a failed backup never leaves a half-written file under the real name.
    """
    if engine.dialect.name != "sqlite":
        raise BackupUnsupported(
            "answerdesk backs up SQLite only; for PostgreSQL use pg_dump "
            "(for example: pg_dump --format=custom --file=answerdesk.dump DATABASE_URL)"
        )
    destination = destination.resolve()
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
    finally:
        raw.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the backup failed its integrity check: {verdict}")
    os.replace(partial, destination)
    return destination.stat().st_size
