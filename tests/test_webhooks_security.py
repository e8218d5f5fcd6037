"""Webhook security: no request to private addresses, secrets encrypted at rest."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk.config import Settings, SettingsError
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import webhook_endpoints
from answerdesk.webhooks import crypto, ssrf
from answerdesk.webhooks.deliveries import list_deliveries
from answerdesk.webhooks.delivery import deliver_due
from answerdesk.webhooks.endpoints import register_endpoint
from answerdesk.webhooks.runner import start_deliverer_thread
from answerdesk.webhooks.ssrf import UnsafeURL, check_url
from tests.factories import Desk
from tests.live import serve
from tests.webhook_support import Receiver

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://100.64.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::]/hook",
    "https://localhost/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)  # an admin may allow it


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/", "/hook"]
)
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url, allow_private=True)


def test_a_hostname_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1"):
        check_url("https://hooks.example.com/in", allow_private=False)
    monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["93.184.216.34"])
    assert check_url("https://hooks.example.com/in", allow_private=False)


def test_dns_that_changes_after_registration_is_refused_at_delivery(
    engine: Engine, desk: Desk, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account()
    receiver = Receiver()
    with serve(receiver.app()) as base:
        port = base.rsplit(":", 1)[1]
        monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["93.184.216.34"])
        with write_transaction(engine) as connection:
            register_endpoint(
                connection,
                settings=settings,
                account_id=account.id,
                url=f"http://hooks.example.com:{port}/hook",
                events="message.created",
            )
        # The name now points at us: the deliverer checks again and does not connect.
        monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["127.0.0.1"])
        desk.take(account)
        deliver_due(engine, settings)
    assert receiver.requests == []
    with read_transaction(engine) as connection:
        [shown] = list_deliveries(connection, account_id=account.id)
    assert shown.state == "retrying"
    assert (shown.last_error or "").startswith("refused: resolves to 127.0.0.1")


def test_the_pinned_connection_keeps_the_host_header(
    engine: Engine, desk: Desk, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account()
    receiver = Receiver()
    seen: list[str] = []
    app = receiver.app()

    async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            seen.append(dict(scope["headers"])[b"host"].decode())
        await app(scope, receive, send)

    monkeypatch.setattr(ssrf, "resolve_host", lambda host, port: ["127.0.0.1"])
    with serve(recording) as base:
        port = base.rsplit(":", 1)[1]
        with write_transaction(engine) as connection:
            _e, receiver.secret = register_endpoint(
                connection,
                settings=settings,
                account_id=account.id,
                url=f"http://hooks.example.com:{port}/hook",
                events="message.created",
                allow_private=True,  # as an admin would
            )
        desk.take(account)
        deliver_due(engine, settings)
    assert seen == [f"hooks.example.com:{port}"]
    assert receiver.requests[0][1]  # signature verified


def test_secrets_are_not_stored_in_plaintext(
    engine: Engine, desk: Desk, settings: Settings
) -> None:
    account = desk.account()
    with write_transaction(engine) as connection:
        _endpoint, secret = register_endpoint(
            connection,
            settings=settings,
            account_id=account.id,
            url="http://127.0.0.1:9/hook",
            events="message.created",
            allow_private=True,
        )
    assert secret.startswith("whsec_")
    with read_transaction(engine) as connection:
        rows = connection.execute(sa.select(webhook_endpoints)).all()
    dump = repr(rows)
    assert secret not in dump and secret.removeprefix("whsec_") not in dump
    assert crypto.decrypt_secret(settings, rows[0].secret_encrypted) == secret


def test_the_webhook_key_is_required_outside_development() -> None:
    strong = "x" * 40
    with pytest.raises(SettingsError, match="ANSWERDESK_WEBHOOK_KEY"):
        crypto.fernet(Settings(environment="production", secret_key=strong))
    with pytest.raises(SettingsError, match="ANSWERDESK_WEBHOOK_KEY"):
        start_deliverer_thread(None, Settings(environment="production", secret_key=strong))  # type: ignore[arg-type]
    key = crypto.Fernet.generate_key().decode()
    production = Settings(environment="production", secret_key=strong, webhook_key=key)
    sealed = crypto.encrypt_secret(production, "whsec_abc")
    assert crypto.decrypt_secret(production, sealed) == "whsec_abc"
    with pytest.raises(SettingsError):
        crypto.decrypt_secret(
            replace(production, webhook_key=crypto.Fernet.generate_key().decode()), sealed
        )
