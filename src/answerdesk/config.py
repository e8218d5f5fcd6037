"""Settings, read once from the environment and passed down explicitly.

Nothing reads the environment at import time: `Settings.from_env()` is called
by the CLI (or a test) and the result is handed to `create_app`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DEFAULT_DATABASE_URL = "sqlite:///answerdesk.db"
#: Fine on a developer's machine, refused anywhere else (see `Settings.__post_init__`).
DEVELOPMENT_SECRET_KEY = "answerdesk-development-secret-key-do-not-deploy"  # noqa: S105
ENVIRONMENTS = ("development", "production")


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


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything that can differ between two deployments of answerdesk."""

    database_url: str = DEFAULT_DATABASE_URL
    #: Messages per keyset chunk when streaming a list; bounds server memory.
    stream_chunk_size: int = 1000
    #: Connection pool size per process (PostgreSQL).
    pool_size: int = 10
    #: API requests allowed per token per window (per server process); 0: no limit.
    api_rate_limit: int = 600
    api_rate_window_seconds: int = 60
    #: Failed API authentications allowed per client address per window (per
    #: server process); more answer 429 before any token is looked at. 0: no limit.
    auth_failure_limit: int = 50
    auth_failure_window_seconds: int = 300
    #: Proxies whose X-Forwarded-For/-Proto headers are believed (IPs or CIDRs,
    #: comma-separated; `*` trusts any). Empty: trust none, use the peer address.
    trusted_proxies: str = ""
    #: One JSON log line per HTTP request (method, path, status, duration). Off
    #: by default: it costs about twice the framework's own per-request time,
    #: and a load balancer usually keeps access logs already.
    access_log: bool = False
    #: Megabytes of single answers each server process keeps in memory: on
    #: SQLite until a commit that can change them (api/hot_readers.py), on
    #: PostgreSQL until a change notice for their account
    #: (api/kept_answers.py); 0: keep none.
    #: ~32,000 answers of ~2 KB, a busy desk's hot set.
    answer_cache_mb: int = 64
    #: Deployment brand shown in the console.
    brand_name: str = "Answering Service Care"
    api_version_label: str = "v1"
    #: `development` allows the built-in secret key; anything else needs a real one.
    environment: str = "development"
    #: Signs the console's CSRF tokens; keep it secret and stable across restarts.
    secret_key: str = field(default=DEVELOPMENT_SECRET_KEY, repr=False)
    #: Public URL of the deployment (links in e-mails, the curl example); empty:
    #: taken from each request.
    base_url: str = ""
    #: A console session ends this many hours after sign-in.
    session_lifetime_hours: int = 12
    #: Failed sign-ins allowed per client address and per e-mail in the window.
    sign_in_limit_per_address: int = 20
    sign_in_limit_per_account: int = 5
    sign_in_window_minutes: int = 15
    #: Outgoing mail for invitations and password resets; no host: links are logged.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "answerdesk@localhost"
    smtp_starttls: bool = True
    #: Webhooks (issue 6): Fernet key that encrypts signing secrets (required
    #: outside development), and a switch letting every endpoint reach private
    #: addresses (tests and development only).
    webhook_key: str = field(default="", repr=False)
    webhook_allow_private: bool = False

    def __post_init__(self) -> None:
        if self.answer_cache_mb < 0:
            raise SettingsError(
                f"ANSWERDESK_ANSWER_CACHE_MB must be 0 or more, got {self.answer_cache_mb}"
            )
        if self.environment not in ENVIRONMENTS:
            raise SettingsError(
                f"ANSWERDESK_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, "
                f"got {self.environment!r}"
            )
        if self.environment != "development" and (
            self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise SettingsError(
                "ANSWERDESK_SECRET_KEY must be set to a random value of at least 32 "
                "characters outside development"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `ANSWERDESK_*` variables; explicit overrides (CLI flags) win."""
        env = os.environ if env is None else env
        settings = cls(
            database_url=env.get("ANSWERDESK_DATABASE_URL") or DEFAULT_DATABASE_URL,
            stream_chunk_size=_int(env, "ANSWERDESK_STREAM_CHUNK_SIZE", 1000),
            pool_size=_int(env, "ANSWERDESK_POOL_SIZE", 10),
            api_rate_limit=_int(env, "ANSWERDESK_API_RATE_LIMIT", 600),
            api_rate_window_seconds=_int(env, "ANSWERDESK_API_RATE_WINDOW_SECONDS", 60),
            auth_failure_limit=_int(env, "ANSWERDESK_AUTH_FAILURE_LIMIT", 50),
            auth_failure_window_seconds=_int(env, "ANSWERDESK_AUTH_FAILURE_WINDOW_SECONDS", 300),
            trusted_proxies=env.get("ANSWERDESK_TRUSTED_PROXIES") or "",
            access_log=_bool(env, "ANSWERDESK_ACCESS_LOG", False),
            answer_cache_mb=_int(env, "ANSWERDESK_ANSWER_CACHE_MB", 64),
            brand_name=env.get("ANSWERDESK_BRAND_NAME") or cls.brand_name,
            api_version_label=env.get("ANSWERDESK_API_VERSION_LABEL") or cls.api_version_label,
            environment=env.get("ANSWERDESK_ENVIRONMENT") or cls.environment,
            secret_key=env.get("ANSWERDESK_SECRET_KEY") or DEVELOPMENT_SECRET_KEY,
            base_url=(env.get("ANSWERDESK_BASE_URL") or "").rstrip("/"),
            session_lifetime_hours=_int(env, "ANSWERDESK_SESSION_LIFETIME_HOURS", 12),
            sign_in_limit_per_address=_int(env, "ANSWERDESK_SIGN_IN_LIMIT_PER_ADDRESS", 20),
            sign_in_limit_per_account=_int(env, "ANSWERDESK_SIGN_IN_LIMIT_PER_ACCOUNT", 5),
            sign_in_window_minutes=_int(env, "ANSWERDESK_SIGN_IN_WINDOW_MINUTES", 15),
            smtp_host=env.get("ANSWERDESK_SMTP_HOST") or "",
            smtp_port=_int(env, "ANSWERDESK_SMTP_PORT", 587),
            smtp_user=env.get("ANSWERDESK_SMTP_USER") or "",
            smtp_password=env.get("ANSWERDESK_SMTP_PASSWORD") or "",
            smtp_from=env.get("ANSWERDESK_SMTP_FROM") or cls.smtp_from,
            smtp_starttls=_bool(env, "ANSWERDESK_SMTP_STARTTLS", True),
            webhook_key=env.get("ANSWERDESK_WEBHOOK_KEY") or "",  # webhooks (issue 6)
            webhook_allow_private=_bool(env, "ANSWERDESK_WEBHOOK_ALLOW_PRIVATE", False),
        )
        given = {key: value for key, value in overrides.items() if value is not None}
        return replace(settings, **given)  # type: ignore[arg-type]
