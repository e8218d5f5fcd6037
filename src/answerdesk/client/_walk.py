"""Plan `MessagesClient.iter`: keyset pages where the server has them, date windows where not.

The vendors' Messages APIs document only the full list and a date range.
answerdesk adds `after_id`/`limit`, but the SDK may only send those once it
knows the server understands them. So the first list request of a walk is
the one the documented fallback needs anyway, with `limit=` added as a probe:

* an answer with a `Link: rel="next"` header proves the extension: the walk
  goes on in keyset pages (`after_id=<last id>&limit=<page size>`);
* more messages than `limit`, or a 400, prove its absence: that answer is
  (or, after a 400, a plain repeat gives) the full list or date window;
* anything else is complete either way, and the question stays open.

Without the extension, `iter(after_id=N)` reads the window from the local
calendar day of message N (learnt from `GET /messages/N`, or remembered from
the previous walk) minus the look-back, with no end date, and keeps the
messages with an id above N, each once, in id order. The look-back catches
messages stored after N but dated earlier (back-dated imports, slow agents).

The planner does no I/O: a client asks `next_step()`, performs it, and
hands the answer to `feed_anchor` or `feed_answer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from ._api import MessagesAPI, format_date
from ._models import Message, parse_message_list


@dataclass(frozen=True)
class Step:
    """One request of a walk: a message to look up (`anchor_id`) or a list query."""

    params: Mapping[str, str] = field(default_factory=dict)
    anchor_id: int | None = None
    #: The query carries `limit=` to learn whether the server has the extension.
    probe: bool = False


class MessageWalk:
    """The state of one `iter()` pass over a Messages API."""

    def __init__(
        self,
        *,
        after_id: int | None,
        extension: bool | None,
        page_size: int,
        look_back_days: int,
        anchor_date: date | None = None,
    ) -> None:
        self.after_id = after_id if after_id is None or after_id > 0 else None
        #: True/False once known; the client keeps it for its next walks.
        self.extension = extension
        self.page_size = page_size
        self.look_back_days = look_back_days
        self.anchor_date = anchor_date
        self._anchor_known = anchor_date is not None or self.after_id is None
        self._cursor = self.after_id
        self._seen: set[int] = set()
        self._done = False

    def _window(self) -> dict[str, str]:
        if self.after_id is None or self.anchor_date is None:
            return {}  # everything: the only way to be sure
        start = self.anchor_date - timedelta(days=self.look_back_days)
        return {"from_date": format_date(start)}

    def next_step(self) -> Step | None:
        """Return the request to make next, or None when the walk is over."""
        if self._done:
            return None
        if self.extension:
            params = {"limit": str(self.page_size)}
            if self._cursor is not None:
                params["after_id"] = str(self._cursor)
            return Step(params)
        if not self._anchor_known:
            return Step(anchor_id=self.after_id)
        if self.extension is None:
            return Step({**self._window(), "limit": str(self.page_size)}, probe=True)
        return Step(self._window())

    def feed_anchor(self, message: Message | None) -> None:
        """Take the answer to an anchor lookup (None: the message is gone)."""
        self.anchor_date = message.local_date if message else None
        self._anchor_known = True

    def feed_answer(self, step: Step, response: httpx.Response, api: MessagesAPI) -> list[Message]:
        """Take the answer to a list step; return the messages to hand out, in id order."""
        if step.probe and response.status_code == 400:
            self.extension = False  # the server rejects `limit`: ask plainly
            return []
        messages = parse_message_list(api.check(response))
        return self.feed_list(step, messages, "next" in response.links)

    def feed_list(self, step: Step, messages: list[Message], has_next: bool) -> list[Message]:
        """Take a list answer; return the messages to hand out, in id order."""
        if step.probe and has_next:
            self.extension = True
            if self.after_id is not None or step.params.keys() - {"limit"}:
                return []  # a keyset page of a window: start over from after_id
            return self._page(messages, has_next)
        if step.probe or not self.extension:
            if step.probe and len(messages) > self.page_size:
                self.extension = False
            self._done = True
            return self._fresh(messages)
        return self._page(messages, has_next)

    def _fresh(self, messages: list[Message]) -> list[Message]:
        fresh = []
        for message in sorted(messages, key=lambda m: m.message_id):
            if self.after_id is not None and message.message_id <= self.after_id:
                continue
            if message.message_id not in self._seen:
                self._seen.add(message.message_id)
                fresh.append(message)
        return fresh

    def _page(self, messages: list[Message], has_next: bool) -> list[Message]:
        start = self._cursor
        fresh = sorted(
            (m for m in messages if start is None or m.message_id > start),
            key=lambda m: m.message_id,
        )
        if fresh:
            self._cursor = fresh[-1].message_id
        # No `next` link, or a page that does not advance: the walk is over.
        self._done = not has_next or not fresh
        return fresh
