"""Form state for templates: the values typed and an error per field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from starlette.datastructures import FormData


@dataclass
class Form:
    """What a form shows: the values to put back and what is wrong with each field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: A problem that belongs to no single field (shown above the form).
    summary: str | None = None

    @classmethod
    def from_data(cls, data: FormData | None, names: Iterable[str] | None = None) -> Form:
        """Keep the text fields of a submitted form (files are never accepted)."""
        values: dict[str, str] = {}
        if data is not None:
            for key, value in data.multi_items():
                if isinstance(value, str) and (names is None or key in names):
                    values[key] = value
        return cls(values=values)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def checked(self, name: str) -> bool:
        return self.values.get(name) in ("on", "true", "1", "yes")

    def fail(self, errors: Mapping[str, str], rename: Mapping[str, str] | None = None) -> Form:
        """Attach domain errors (keyed by domain field names) to this form's fields."""
        for key, problem in errors.items():
            name = (rename or {}).get(key, key)
            self.errors.setdefault(name, problem)
        return self

    @property
    def ok(self) -> bool:
        return not self.errors and self.summary is None
