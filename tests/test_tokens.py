"""API tokens: shape, checksum, hashing at rest, revocation, last use."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from answerdesk import clock, tokens
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import api_tokens
from tests.factories import Desk


def test_tokens_are_64_chars_prefixed_and_checksummed() -> None:
    issued = {tokens.generate_token() for _ in range(200)}
    assert len(issued) == 200
    for token in issued:
        assert len(token) == 64
        assert token.startswith("adk_")
        assert token.isascii() and token[4:].isalnum()
        assert tokens.looks_like_token(token)
    token = issued.pop()
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert not tokens.looks_like_token(flipped)
    assert not tokens.looks_like_token(token[:-1])
    assert not tokens.looks_like_token(token + "x")


def test_only_the_hash_is_stored(desk: Desk, engine) -> None:
    user = desk.user(role="client", account=desk.account())
    token = desk.token(user)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(api_tokens)).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert token not in stored
    assert token[12:] not in stored
    assert rows[0].prefix == token[:12]
    assert rows[0].token_hash == tokens.hash_token(token)


def test_revoke_and_list(desk: Desk, engine) -> None:
    account = desk.account()
    login = desk.client_of(account)
    with write_transaction(engine) as connection:
        principal = tokens.verify_token(connection, login.token)
        assert principal is not None
        tokens.revoke_token(connection, token_id=principal.token_id)
        tokens.revoke_token(connection, token_id=principal.token_id)  # twice is harmless
        assert tokens.verify_token(connection, login.token) is None
        listed = tokens.list_tokens(connection, user_id=login.user.id)
    assert [info.revoked_at is not None for info in listed] == [True]


def test_last_used_is_written_at_most_once_a_minute(http, desk: Desk, engine, monkeypatch) -> None:
    account = desk.account()
    login = desk.client_of(account)

    def last_used():
        with read_transaction(engine) as connection:
            return tokens.list_tokens(connection, user_id=login.user.id)[0].last_used_at

    assert last_used() is None
    start = clock.utcnow()
    monkeypatch.setattr(clock, "utcnow", lambda: start)
    http.get("/v1/messages", headers=login.headers)
    assert last_used() == start
    monkeypatch.setattr(clock, "utcnow", lambda: start + timedelta(seconds=30))
    http.get("/v1/messages", headers=login.headers)
    assert last_used() == start
    later = start + timedelta(seconds=61)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    http.get("/v1/messages", headers=login.headers)
    assert last_used() == later
