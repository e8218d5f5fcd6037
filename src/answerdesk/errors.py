"""One error tree for the domain; each HTTP face renders it in its own envelope.

AnswerdeskError            500 anything unexpected
├── InvalidCredentials     404 on the Messages API, 401 on the Sell API
├── Forbidden              403 authenticated, but not allowed here
├── NotFound               404
│   ├── AccountNotFound
│   ├── MessageNotFound
│   ├── UserNotFound
│   └── TokenNotFound
├── InvalidParameter       400 a query parameter is malformed
├── ValidationFailed       422 an input object has bad fields (each named)
└── Conflict               409 the input clashes with stored data
"""

from __future__ import annotations


class AnswerdeskError(Exception):
    """Base of every error answerdesk raises on purpose."""

    status = 500
    default_message = "Internal error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidCredentials(AnswerdeskError):
    """The caller could not be authenticated; the cause is never told."""

    status = 404
    default_message = "Invalid token"


class Forbidden(AnswerdeskError):
    status = 403
    default_message = "Forbidden"


class NotFound(AnswerdeskError):
    status = 404
    default_message = "Not found"


class AccountNotFound(NotFound):
    default_message = "Account not found"


class MessageNotFound(NotFound):
    default_message = "Message not found"


class UserNotFound(NotFound):
    default_message = "User not found"


class TokenNotFound(NotFound):
    default_message = "Token not found"


class InvalidParameter(AnswerdeskError):
    """A request parameter is malformed; the message names it and its form."""

    status = 400

    def __init__(self, parameter: str, expected: str) -> None:
        self.parameter = parameter
        super().__init__(f"Invalid {parameter}: expected {expected}")


class ValidationFailed(AnswerdeskError):
    """An input object has bad fields; `errors` maps each field to what is wrong."""

    status = 422
    default_message = "Invalid input"

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        self.errors = errors
        detail = "; ".join(f"{field}: {problem}" for field, problem in errors.items())
        super().__init__(message or f"{self.default_message}: {detail}")


class Conflict(AnswerdeskError):
    status = 409
    default_message = "Conflict"
