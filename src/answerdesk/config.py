"""Settings, read once from the environment and passed down explicitly.

Nothing reads the environment at import time: `Settings.from_env()` is called
by the CLI (or a test) and the result is handed to `create_app`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

DEFAULT_DATABASE_URL = "sqlite:///answerdesk.db"


class SettingsError(ValueError):
    """A setting has a value answerdesk cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Everything that can differ between two deployments of answerdesk."""

    database_url: str = DEFAULT_DATABASE_URL
    #: Messages per keyset chunk when streaming a list; bounds server memory.
    stream_chunk_size: int = 1000
    #: Connection pool size per process (PostgreSQL).
    pool_size: int = 10
    #: Deployment brand shown in the console.
    brand_name: str = "Answering Service Care"
    api_version_label: str = "v1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `ANSWERDESK_*` variables; explicit overrides (CLI flags) win."""
        env = os.environ if env is None else env
        settings = cls(
            database_url=env.get("ANSWERDESK_DATABASE_URL") or DEFAULT_DATABASE_URL,
            stream_chunk_size=_int(env, "ANSWERDESK_STREAM_CHUNK_SIZE", 1000),
            pool_size=_int(env, "ANSWERDESK_POOL_SIZE", 10),
            brand_name=env.get("ANSWERDESK_BRAND_NAME") or cls.brand_name,
            api_version_label=env.get("ANSWERDESK_API_VERSION_LABEL") or cls.api_version_label,
        )
        given = {key: value for key, value in overrides.items() if value is not None}
        return replace(settings, **given)  # type: ignore[arg-type]
