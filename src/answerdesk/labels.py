"""Custom-field label names: the `{labelName}` of the flattened message keys."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOT_NAME = re.compile(r"[^a-z0-9]+")
#: A label with no letters or digits at all still needs a usable key.
EMPTY_NAME = "field"


def base_name(label: str) -> str:
    """Lower-case, runs of other characters to one `_`, trimmed of `_`."""
    return _NOT_NAME.sub("_", label.lower()).strip("_") or EMPTY_NAME


def label_names(labels: Iterable[str]) -> list[str]:
    """Name every label of a script, in order, each name unique.

    The second label with a base name gets `_2`, the third `_3`; should that
    name itself be taken (a label literally called `phone_2`), the count goes
    on until a free name is found.
    """
    names: list[str] = []
    taken: set[str] = set()
    seen: dict[str, int] = {}
    for label in labels:
        base = base_name(label)
        count = seen.get(base, 0) + 1
        seen[base] = count
        name = base if count == 1 else f"{base}_{count}"
        while name in taken:
            count += 1
            seen[base] = count
            name = f"{base}_{count}"
        taken.add(name)
        names.append(name)
    return names
