"""Print API objects for `answerdesk fetch`: JSON, JSON Lines, CSV or a table.

CSV has one column per key; a message's custom fields are flattened the way
the Messages API flattens them (`content_with_additional_details_table__{labelName}`),
one column per field seen in any message.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click

from answerdesk.cli.main import table
from answerdesk.client import Message

FORMATS = ("json", "jsonl", "csv", "table")
FLAT_PREFIX = "content_with_additional_details_table__"
TABLE_KEY = "content_with_additional_details_table"


def cell(value: Any) -> str:
    """Write one value for CSV or a table: empty for null, lists space-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    return str(value)


def columns(rows: Sequence[Mapping[str, Any]], skip: Callable[[str], bool]) -> list[str]:
    """Collect the keys of all rows in first-seen order, leaving out those `skip` names."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update((key, None) for key in row if not skip(key))
    return list(seen)


def message_rows(messages: Sequence[Message]) -> tuple[list[str], list[dict[str, Any]]]:
    """Flatten messages for CSV: the standard keys, then one column per custom field."""
    raws = [dict(message.raw) for message in messages]
    standard = columns(raws, lambda key: key == TABLE_KEY or key.startswith(FLAT_PREFIX))
    custom: dict[str, None] = {}
    rows = []
    for message, raw in zip(messages, raws, strict=True):
        row = {key: raw.get(key) for key in standard}
        for name, value in message.fields.items():
            custom[FLAT_PREFIX + name] = None
            row[FLAT_PREFIX + name] = value
        rows.append(row)
    return [*standard, *custom], rows


def emit(
    fmt: str,
    objects: Iterable[Mapping[str, Any]],
    csv_rows: Callable[[], tuple[list[str], list[dict[str, Any]]]],
    table_rows: Callable[[], tuple[list[str], list[list[str]]]],
) -> None:
    """Print in the chosen format; CSV and table rows are built only when asked for."""
    if fmt == "jsonl":
        for obj in objects:
            click.echo(json.dumps(obj, ensure_ascii=False))
    elif fmt == "json":
        click.echo(json.dumps(list(objects), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        headers, rows = csv_rows()
        writer = csv.DictWriter(sys.stdout, fieldnames=headers, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: cell(row.get(key)) for key in headers})
    else:
        headers, cells = table_rows()
        for line in table(headers, cells):
            click.echo(line)


def short(text: Any, width: int = 50) -> str:
    """Cut text to its first line and `width` characters, so a table row stays one line."""
    line = cell(text).splitlines()[0] if cell(text) else ""
    return line if len(line) <= width else line[: width - 1] + "…"
