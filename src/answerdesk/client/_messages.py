"""`MessagesClient` and `AsyncMessagesClient`: the Messages API (v1/v2) of any vendor."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from types import TracebackType
from typing import Self

import httpx

from ._api import MessagesAPI
from ._exceptions import NotFound
from ._models import Message, parse_message, parse_message_list
from ._retry import Retry, as_policy
from ._transport import DEFAULT_TIMEOUT, AsyncSleep, Sleep, asend, send
from ._walk import MessageWalk, Step

#: Messages per keyset page, when the server has the `after_id`/`limit` extension.
DEFAULT_PAGE_SIZE = 1000


class _MessagesBase:
    """What both clients share: settings, and the state kept between walks."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        version: int,
        retries: int | Retry,
        look_back_days: int,
        page_size: int,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be from 1 to 1000")
        if look_back_days < 0:
            raise ValueError("look_back_days must not be negative")
        self.base_url = base_url.rstrip("/")
        self.api = MessagesAPI(email=email, token=token, version=version)
        self.retry = as_policy(retries)
        self.look_back_days = look_back_days
        self.page_size = page_size
        #: Whether the server has the after_id/limit extension: None until a walk learns it.
        self.extension: bool | None = None
        # The newest message handed out and its local day, so the next walk
        # from it needs no lookup to place its date window.
        self._anchor: tuple[int, date | None] | None = None

    def _walk(self, after_id: int | None) -> MessageWalk:
        anchor = self._anchor
        known = anchor[1] if anchor and after_id is not None and anchor[0] == after_id else None
        return MessageWalk(
            after_id=after_id,
            extension=self.extension,
            page_size=self.page_size,
            look_back_days=self.look_back_days,
            anchor_date=known,
        )

    def _learn(self, walk: MessageWalk, messages: list[Message]) -> list[Message]:
        self.extension = walk.extension
        return messages

    def _handed_out(self, message: Message) -> None:
        if self._anchor is None or message.message_id > self._anchor[0]:
            self._anchor = (message.message_id, message.local_date)


class MessagesClient(_MessagesBase):
    """Read a client account's messages from any Messages API (v1 or v2).

    Only the documented headers and parameters are sent; the `after_id`/
    `limit` extension is used only once the server has shown it has it.
    """

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        version: int = 1,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | Retry = 3,
        transport: httpx.BaseTransport | None = None,
        look_back_days: int = 2,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__(
            base_url,
            email,
            token,
            version=version,
            retries=retries,
            look_back_days=look_back_days,
            page_size=page_size,
        )
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=self.api.headers, timeout=timeout, transport=transport
        )

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        request = self._http.build_request("GET", path, params=params)
        return send(self._http, request, self.retry, self._sleep)

    def list(self, *, from_date: date | None = None, to_date: date | None = None) -> list[Message]:
        """Return every message, or those created on these local days (both inclusive)."""
        response = self._get(self.api.list_path, self.api.range_params(from_date, to_date))
        return parse_message_list(self.api.check(response))

    def get(self, message_id: int) -> Message:
        """Return one message; raise NotFound if the account has no such message."""
        return parse_message(self.api.check(self._get(self.api.one_path(message_id))))

    def iter(self, *, after_id: int | None = None) -> Iterator[Message]:
        """Yield every message with an id above `after_id` (all, if None), once, in id order.

        Call again with the last id seen to get what arrived since.
        """
        walk = self._walk(after_id)
        while (step := walk.next_step()) is not None:
            for message in self._perform(walk, step):
                self._handed_out(message)
                yield message
        self.extension = walk.extension

    def _perform(self, walk: MessageWalk, step: Step) -> builtins.list[Message]:
        if step.anchor_id is not None:
            try:
                walk.feed_anchor(self.get(step.anchor_id))
            except NotFound:
                walk.feed_anchor(None)
            return []
        response = self._get(self.api.list_path, dict(step.params))
        return self._learn(walk, walk.feed_answer(step, response, self.api))

    def close(self) -> None:
        """Close the connections this client holds."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncMessagesClient(_MessagesBase):
    """`MessagesClient` for asyncio: the same methods, awaited; `iter` is an async iterator."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        version: int = 1,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | Retry = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        look_back_days: int = 2,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: AsyncSleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            base_url,
            email,
            token,
            version=version,
            retries=retries,
            look_back_days=look_back_days,
            page_size=page_size,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self.api.headers, timeout=timeout, transport=transport
        )

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        request = self._http.build_request("GET", path, params=params)
        return await asend(self._http, request, self.retry, self._sleep)

    async def list(
        self, *, from_date: date | None = None, to_date: date | None = None
    ) -> list[Message]:
        """Return every message, or those created on these local days (both inclusive)."""
        response = await self._get(self.api.list_path, self.api.range_params(from_date, to_date))
        return parse_message_list(self.api.check(response))

    async def get(self, message_id: int) -> Message:
        """Return one message; raise NotFound if the account has no such message."""
        return parse_message(self.api.check(await self._get(self.api.one_path(message_id))))

    async def iter(self, *, after_id: int | None = None) -> AsyncIterator[Message]:
        """Yield every message with an id above `after_id` (all, if None), once, in id order."""
        walk = self._walk(after_id)
        while (step := walk.next_step()) is not None:
            for message in await self._perform(walk, step):
                self._handed_out(message)
                yield message
        self.extension = walk.extension

    async def _perform(self, walk: MessageWalk, step: Step) -> builtins.list[Message]:
        if step.anchor_id is not None:
            try:
                walk.feed_anchor(await self.get(step.anchor_id))
            except NotFound:
                walk.feed_anchor(None)
            return []
        response = await self._get(self.api.list_path, dict(step.params))
        return self._learn(walk, walk.feed_answer(step, response, self.api))

    async def aclose(self) -> None:
        """Close the connections this client holds."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
