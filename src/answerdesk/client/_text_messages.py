"""`TextMessagesClient` and its async twin: the Zendesk Sell compatible Text Messages API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import Self

import httpx

from ._api import TextMessagesAPI
from ._models import TextMessage, TextMessagePage, parse_text_message, parse_text_message_page
from ._retry import Retry, as_policy
from ._transport import DEFAULT_TIMEOUT, AsyncSleep, Sleep, asend, send

#: Sell serves pages 1 to 1000 of at most 100 items.
MAX_PAGE = 1000
MAX_PER_PAGE = 100
#: `iter` walks oldest first: descending pages skip or repeat rows while new ones arrive.
ASCENDING = "id:asc"


def _walk_params(
    page: int,
    per_page: int,
    ids: list[int] | None,
    resource_type: str | None,
    resource_id: int | None,
) -> dict[str, str]:
    return TextMessagesAPI.list_params(
        page=page,
        per_page=per_page,
        ids=ids,
        resource_type=resource_type,
        resource_id=resource_id,
        sort_by=ASCENDING,
    )


def _fresh(page: TextMessagePage, last_id: int | None) -> list[TextMessage]:
    return [item for item in page.items if last_id is None or item.id > last_id]


def _check_per_page(per_page: int) -> None:
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be from 1 to {MAX_PER_PAGE}")


class TextMessagesClient:
    """Read a client account's text messages (`Authorization: Bearer <token>`)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | Retry = 3,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = TextMessagesAPI(token=token)
        self.retry = as_policy(retries)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=self.api.headers, timeout=timeout, transport=transport
        )

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        request = self._http.build_request("GET", path, params=params)
        return send(self._http, request, self.retry, self._sleep)

    def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        ids: Iterable[int] | None = None,
        resource_type: str | None = None,
        resource_id: int | None = None,
        sort_by: str | None = None,
    ) -> TextMessagePage:
        """Return one page; every argument left out is left to the server's default."""
        params = self.api.list_params(
            page=page,
            per_page=per_page,
            ids=ids,
            resource_type=resource_type,
            resource_id=resource_id,
            sort_by=sort_by,
        )
        return parse_text_message_page(self.api.check(self._get(self.api.list_path, params)))

    def get(self, text_message_id: int) -> TextMessage:
        """Return one text message; raise NotFound if there is no such one."""
        return parse_text_message(self.api.check(self._get(self.api.one_path(text_message_id))))

    def iter(
        self,
        *,
        per_page: int = MAX_PER_PAGE,
        ids: Iterable[int] | None = None,
        resource_type: str | None = None,
        resource_id: int | None = None,
    ) -> Iterator[TextMessage]:
        """Yield every text message once, oldest (lowest id) first, page by page.

        Stops at an empty or short page, or after page 1000 (Sell's limit).
        """
        _check_per_page(per_page)
        wanted = list(ids) if ids is not None else None
        last_id: int | None = None
        for number in range(1, MAX_PAGE + 1):
            params = _walk_params(number, per_page, wanted, resource_type, resource_id)
            page = parse_text_message_page(self.api.check(self._get(self.api.list_path, params)))
            for item in _fresh(page, last_id):
                last_id = item.id
                yield item
            if len(page.items) < per_page:
                return

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


class AsyncTextMessagesClient:
    """`TextMessagesClient` for asyncio: the same methods, awaited; `iter` is async."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | Retry = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: AsyncSleep = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = TextMessagesAPI(token=token)
        self.retry = as_policy(retries)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self.api.headers, timeout=timeout, transport=transport
        )

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        request = self._http.build_request("GET", path, params=params)
        return await asend(self._http, request, self.retry, self._sleep)

    async def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        ids: Iterable[int] | None = None,
        resource_type: str | None = None,
        resource_id: int | None = None,
        sort_by: str | None = None,
    ) -> TextMessagePage:
        """Return one page; every argument left out is left to the server's default."""
        params = self.api.list_params(
            page=page,
            per_page=per_page,
            ids=ids,
            resource_type=resource_type,
            resource_id=resource_id,
            sort_by=sort_by,
        )
        response = await self._get(self.api.list_path, params)
        return parse_text_message_page(self.api.check(response))

    async def get(self, text_message_id: int) -> TextMessage:
        """Return one text message; raise NotFound if there is no such one."""
        response = await self._get(self.api.one_path(text_message_id))
        return parse_text_message(self.api.check(response))

    async def iter(
        self,
        *,
        per_page: int = MAX_PER_PAGE,
        ids: Iterable[int] | None = None,
        resource_type: str | None = None,
        resource_id: int | None = None,
    ) -> AsyncIterator[TextMessage]:
        """Yield every text message once, oldest (lowest id) first, page by page."""
        _check_per_page(per_page)
        wanted = list(ids) if ids is not None else None
        last_id: int | None = None
        for number in range(1, MAX_PAGE + 1):
            params = _walk_params(number, per_page, wanted, resource_type, resource_id)
            response = await self._get(self.api.list_path, params)
            page = parse_text_message_page(self.api.check(response))
            for item in _fresh(page, last_id):
                last_id = item.id
                yield item
            if len(page.items) < per_page:
                return

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
