"""The floor: the served list rebuilt by SQLite's own JSON functions.

The rows the server returned are loaded into a reference table with one
column per top-level key (objects as JSON text), then one statement,
`SELECT json_object(<every key>) FROM ref ORDER BY ...`, renders them and
Python joins them into one JSON array. That is about as little work as any
server could do to produce the same bytes from a table, and it does not
depend on answerdesk's schema, so answerdesk cannot move it.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

#: Columns holding JSON (not text): embedded with json() so they stay JSON.
_JSON_KEYS = {"content_with_additional_details_table", "is_emergency"}


def _keys(objects: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for item in objects:
        keys.update(dict.fromkeys(item))
    return list(keys)


def build(objects: list[dict[str, Any]], path: Path) -> tuple[sqlite3.Connection, str]:
    """Load the objects into `ref` in a fresh file; return the connection and the query."""
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(str(path))
    keys = _keys(objects)
    columns = [f"c{i}" for i in range(len(keys))]
    connection.execute(f"CREATE TABLE ref ({', '.join(columns)})")
    marks = ", ".join("?" for _ in keys)
    rows = []
    for item in objects:
        row = []
        for key in keys:
            value = item.get(key)
            if key in _JSON_KEYS:
                value = orjson.dumps(value).decode()
            row.append(value)
        rows.append(row)
    with connection:
        connection.executemany(f"INSERT INTO ref VALUES ({marks})", rows)
        order = (columns[keys.index("utc_created_at")], columns[keys.index("message_id")])
        connection.execute(f"CREATE INDEX ref_order ON ref ({order[0]}, {order[1]})")
    pairs = ", ".join(
        f"'{key}', " + (f"json({column})" if key in _JSON_KEYS else column)
        for key, column in zip(keys, columns, strict=True)
    )
    query = f"SELECT json_object({pairs}) FROM ref ORDER BY {order[0]}, {order[1]}"
    return connection, query


def measure(objects: list[dict[str, Any]], path: Path, *, repeat: int = 3) -> float:
    """Rows per second of the floor (median of `repeat` runs)."""
    connection, query = build(objects, path)
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        body = ("[" + ",".join(row[0] for row in connection.execute(query)) + "]").encode()
        elapsed = time.perf_counter() - started
        rates.append(len(objects) / elapsed)
    check = orjson.loads(body)
    assert len(check) == len(objects)
    connection.close()
    return statistics.median(rates)
