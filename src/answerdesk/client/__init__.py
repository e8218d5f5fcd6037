"""answerdesk's Python SDK: the Messages API (v1/v2) and the Text Messages API.

Usable on its own: it needs only httpx and the standard library, and works
against answerdesk or a vendor's server alike.

    from answerdesk.client import MessagesClient

    with MessagesClient("https://desk.example", "carla@acme.example", token) as client:
        for message in client.iter():
            print(message.message_id, message.from_, message.fields)
"""

from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequest,
    ClientError,
    DecodeError,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
)
from ._messages import AsyncMessagesClient, MessagesClient
from ._models import Message, TextMessage, TextMessagePage, label_name
from ._retry import Retry
from ._text_messages import AsyncTextMessagesClient, TextMessagesClient
from ._webhooks import WebhookSignatureError, verify_signature  # webhooks (issue 6)

__all__ = [
    "APIError",
    "AsyncMessagesClient",
    "AsyncTextMessagesClient",
    "AuthenticationError",
    "BadRequest",
    "ClientError",
    "DecodeError",
    "Message",
    "MessagesClient",
    "NotFound",
    "RateLimited",
    "RequestTimeout",
    "Retry",
    "ServerError",
    "TextMessage",
    "TextMessagePage",
    "TextMessagesClient",
    "TransportError",
    "WebhookSignatureError",
    "label_name",
    "verify_signature",
]
