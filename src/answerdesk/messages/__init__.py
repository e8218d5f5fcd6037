"""Messages: taken by agents, read by clients. The domain, with no HTTP in it."""

from answerdesk.messages.inputs import MessageInput, parse_message_input
from answerdesk.messages.lifecycle import STATUSES, change_status
from answerdesk.messages.listing import WireChunk, iter_wire_chunks, message_wire
from answerdesk.messages.reading import (
    DayRange,
    ListQuery,
    get_message,
    has_more,
    local_day_range,
)
from answerdesk.messages.taking import take_message, take_message_data
from answerdesk.messages.wire import message_json, render_message

__all__ = [
    "STATUSES",
    "DayRange",
    "ListQuery",
    "MessageInput",
    "WireChunk",
    "change_status",
    "get_message",
    "has_more",
    "iter_wire_chunks",
    "local_day_range",
    "message_json",
    "message_wire",
    "parse_message_input",
    "render_message",
    "take_message",
    "take_message_data",
]
