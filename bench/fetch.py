"""Fetch a whole list over a plain socket, timing it without parsing it.

A raw socket keeps the client's own cost (and its share of the two cores)
as small as possible: it only receives bytes and counts message objects.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

#: Every message object starts with this key; inside strings a quote is
#: escaped, so the pattern cannot occur anywhere else in the body.
OBJECT_START = b'{"account_number":'


@dataclass(frozen=True)
class Fetched:
    """What one request took: first row, last byte, size and rows."""

    status: int
    first_row_s: float
    total_s: float
    body_bytes: int
    rows: int
    body: bytes | None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.total_s if self.total_s else 0.0


def get(
    port: int, path: str, headers: dict[str, str], *, keep: bool = False, timeout: float = 600
) -> Fetched:
    """GET `path` with `Connection: close`; keep the raw body (chunked) only if asked."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    kept = bytearray()
    tail = b""
    rows = 0
    size = 0
    first_row = 0.0
    head = b""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        while True:
            data = conn.recv(1 << 20)
            if not data:
                break
            size += len(data)
            window = tail + data
            found = window.count(OBJECT_START)
            if found and not first_row:
                first_row = time.perf_counter() - started
            rows += found
            tail = window[-(len(OBJECT_START) - 1) :]
            if len(head) < 4096:
                head += data[: 4096 - len(head)]
            if keep:
                kept += data
    total = time.perf_counter() - started
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    body = _dechunk(bytes(kept)) if keep else None
    return Fetched(status, first_row or total, total, size, rows, body)


def _dechunk(raw: bytes) -> bytes:
    """Return the body of a raw HTTP/1.1 response (chunked or not)."""
    header, _, rest = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in header.lower():
        return rest
    out = bytearray()
    position = 0
    while True:
        end = rest.index(b"\r\n", position)
        length = int(rest[position:end].split(b";")[0], 16)
        if length == 0:
            return bytes(out)
        out += rest[end + 2 : end + 2 + length]
        position = end + 2 + length + 2
