"""Keep glibc's heap from shrinking between big answers.

A date-range list of ~1,000 messages is a ~2 MB body, built and freed within
one request, a few copies of it at once under load. glibc's malloc serves a
block above its mmap threshold with a fresh mapping and gives the top of the
heap back to the kernel once more than its trim threshold lies free there;
both thresholds start at 128 KB and only creep up as big blocks are freed.
Under load the heap therefore kept growing and shrinking by megabytes, and
every answer wrote to pages the kernel had to fault in and zero anew:
~1,300 page faults per ~1,000-row answer, about a third of the server's CPU
for it (docs/performance.md, "Fourth look").

Fixing the thresholds at the values glibc's own adjustment tops out at
(its mmap ceiling, 32 MB, and twice that for trimming) keeps those pages
mapped between requests. What it costs is memory the process holds on to:
up to 64 MB of free heap per process after a burst, never more. An operator
who tunes malloc already (`MALLOC_*_` variables or `GLIBC_TUNABLES`) is left
alone, as is any C library but glibc.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from collections.abc import Mapping

log = logging.getLogger(__name__)

#: mallopt's parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's ceiling for its own dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Twice the mmap threshold, as glibc's own adjustment sets it.
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

_OPERATOR_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def operator_tuned(environ: Mapping[str, str]) -> bool:
    """True when the environment already tells glibc's malloc how to behave."""
    if any(name in environ for name in _OPERATOR_VARIABLES):
        return True
    return "glibc.malloc." in environ.get("GLIBC_TUNABLES", "")


def keep_heap_for_big_answers(environ: Mapping[str, str] | None = None) -> bool:
    """Fix this process's malloc thresholds (see the module docstring); True if done."""
    if operator_tuned(os.environ if environ is None else environ):
        return False
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt answers 1 on success, 0 on a refused value.
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    done = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and done
    log.debug("malloc thresholds fixed" if done else "malloc thresholds refused")
    return done
