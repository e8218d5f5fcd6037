"""`POST /agent/v1/accounts/<number>/messages`: phone systems and scripts take messages."""

from __future__ import annotations

import hashlib

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import clock
from answerdesk.accounts import get_account
from answerdesk.api.auth import principal_from_bearer
from answerdesk.api.responses import JSONBytesResponse
from answerdesk.errors import (
    AccountNotFound,
    AnswerdeskError,
    Conflict,
    Forbidden,
    InvalidParameter,
    ValidationFailed,
)
from answerdesk.messages import get_message, message_json, take_message_data
from answerdesk.store.engine import write_transaction
from answerdesk.store.tables import idempotency_keys
from answerdesk.tokens import Principal

MAX_BODY_BYTES = 1_000_000
MAX_IDEMPOTENCY_KEY = 255


class PayloadTooLarge(AnswerdeskError):
    status = 413
    default_message = f"Request body too large: at most {MAX_BODY_BYTES} bytes"


async def _read_json(request: Request) -> object:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidParameter("body", "a JSON object") from None


def _replay(connection: sa.Connection, user_id: int, key: str, digest: str) -> int | None:
    row = connection.execute(
        sa.select(idempotency_keys.c.message_id, idempotency_keys.c.request_hash).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict("Idempotency-Key was already used with a different request")
    return int(row.message_id)


def _authorise(engine: Engine, request: Request) -> Principal:
    principal = principal_from_bearer(engine, request)
    if principal.role not in ("agent", "admin"):
        raise Forbidden(
            "Client tokens are read-only: taking messages needs an agent or admin token"
        )
    return principal


def _take(
    engine: Engine, principal: Principal, number: str, payload: object, key: str | None
) -> tuple[bytes, int, bool]:
    """Store the message (or find the one this key stored).

    Returns the rendered message, its id, and whether it was a replay.
    """
    digest = hashlib.sha256(number.encode() + b"\0" + orjson.dumps(payload)).hexdigest()
    with write_transaction(engine) as connection:
        account = get_account(connection, number=number)
        replayed = False
        found = _replay(connection, principal.user_id, key, digest) if key else None
        if found is not None:
            message_id, replayed = found, True
        else:
            if not isinstance(payload, dict):
                raise ValidationFailed({"body": "must be a JSON object"})
            message_id = take_message_data(
                connection, account=account, data=payload, taken_by_user_id=principal.user_id
            )
            if key is not None:
                connection.execute(
                    idempotency_keys.insert().values(
                        user_id=principal.user_id,
                        key=key,
                        request_hash=digest,
                        message_id=message_id,
                        created_at=clock.utcnow(),
                    )
                )
        row = get_message(connection, account_id=account.id, message_id=message_id)
        body = message_json(row, account_number=account.number, zone=account.zone)
    return body, message_id, replayed


async def post_message(request: Request) -> Response:
    """Take one message; 201 with it as the Messages API shows it."""
    engine: Engine = request.app.state.engine
    principal = await run_in_threadpool(_authorise, engine, request)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidParameter("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY} characters")
    payload = await _read_json(request)
    number = request.path_params["number"]
    if "\x00" in number:
        # No account number holds NUL, and PostgreSQL refuses to even compare one.
        raise AccountNotFound()
    try:
        body, message_id, replayed = await run_in_threadpool(
            _take, engine, principal, number, payload, key
        )
    except IntegrityError:
        if key is None:
            raise
        # Two retries with one key raced and the other stored it: answer as it did.
        body, message_id, replayed = await run_in_threadpool(
            _take, engine, principal, number, payload, key
        )
    headers = {"Location": f"/v1/messages/{message_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONBytesResponse(body, status_code=201, headers=headers)


def routes() -> list[BaseRoute]:
    return [Route("/agent/v1/accounts/{number}/messages", post_message, methods=["POST"])]
