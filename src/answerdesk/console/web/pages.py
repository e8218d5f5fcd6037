"""The `view` decorator: sessions, CSRF, roles and error pages for every console page.

A view is a plain synchronous function of a `Page` (run in the thread pool,
as SQLAlchemy and argon2 block). The decorator loads who is signed in,
refuses a POST without a valid CSRF token (403) before the view sees it,
sends signed-out visitors to the sign-in page, checks the role, and turns
domain errors into HTML error pages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from answerdesk.config import Settings
from answerdesk.console.web import security
from answerdesk.console.web.forms import Form
from answerdesk.console.web.state import ConsoleState
from answerdesk.errors import AnswerdeskError, Forbidden, NotFound
from answerdesk.sessions import load_session
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.users import Role, User

log = logging.getLogger("answerdesk.console")

STAFF: tuple[Role, ...] = ("admin", "agent")
EVERYONE: tuple[Role, ...] = ("admin", "agent", "client")
ADMIN: tuple[Role, ...] = ("admin",)
MAX_FORM_FIELDS = 500

View = Callable[["Page"], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


class CsrfRefused(Forbidden):
    default_message = (
        "This form has expired or did not come from this site. Reload the page and try again."
    )


@dataclass
class Page:
    """One request to a console page, and the helpers its view uses."""

    request: Request
    state: ConsoleState
    user: User | None
    csrf: str
    data: FormData | None
    #: Cookie to set when this browser had no anonymous cookie yet.
    new_anon: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def me(self) -> User:
        """The signed-in user (views behind a role check always have one)."""
        assert self.user is not None
        return self.user

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with read_transaction(self.state.engine) as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        with write_transaction(self.state.engine) as connection:
            yield connection

    def form(self, names: list[str] | None = None) -> Form:
        return Form.from_data(self.data, names)

    def param(self, name: str) -> str:
        return self.request.query_params.get(name, "").strip()

    def path_int(self, name: str) -> int:
        """Return a numeric path parameter; anything else is a page that does not exist."""
        raw = str(self.request.path_params[name])
        if not raw.isdigit() or len(raw) > 18:
            raise NotFound("Page not found")
        return int(raw)

    @property
    def base_url(self) -> str:
        """The deployment's public URL (setting), else the one this request came to."""
        return self.settings.base_url or str(self.request.base_url).rstrip("/")

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.state.templates.get_template(template).render(
            page=self,
            brand=self.settings.brand_name,
            api_version=self.settings.api_version_label,
            user=self.user,
            csrf=self.csrf,
            path=self.request.url.path,
            **context,
        )
        return HTMLResponse(body, status_code=status, headers=self.headers)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303, headers=self.headers)


def _identity(state: ConsoleState, request: Request) -> tuple[User | None, str | None]:
    token = request.cookies.get(security.SESSION_COOKIE)
    if not token:
        return None, None
    with read_transaction(state.engine) as connection:
        session = load_session(connection, token=token)
    return (session.user, token) if session else (None, None)


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/console/sign-in?next=" + quote(target, safe="")


def safe_next(target: str | None) -> str:
    """Return `target` if it is a console path on this site, else the console's home."""
    if (
        target
        and target.startswith("/console/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return "/console/"


def error_response(
    state: ConsoleState, request: Request, status: int, message: str, user: User | None = None
) -> HTMLResponse:
    """Render the HTML error page (used by views and by the console's handlers)."""
    titles = {
        403: "Not allowed",
        404: "Page not found",
        405: "Not allowed",
        429: "Too many attempts",
        500: "Something went wrong",
    }
    body = state.templates.get_template("error.html").render(
        brand=state.settings.brand_name,
        api_version=state.settings.api_version_label,
        user=user,
        csrf="",
        path=request.url.path,
        status=status,
        title=titles.get(status, "Cannot do that"),
        message=message,
    )
    return HTMLResponse(body, status_code=status, headers=dict(security.SECURITY_HEADERS))


def view(roles: tuple[Role, ...] | None = EVERYONE) -> Callable[[View], Endpoint]:
    """Wrap a view function; `roles=None` makes it public (sign-in, password links)."""

    def decorate(function: View) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            state: ConsoleState = request.app.state.console
            data = None
            if request.method == "POST":
                data = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
            user, session_token = await run_in_threadpool(_identity, state, request)
            anon = request.cookies.get(security.ANON_COOKIE)
            new_anon = None
            if session_token is None and not anon:
                anon = new_anon = security.new_anon_value()
            binding = session_token or anon or ""
            try:
                if request.method == "POST":
                    submitted = data.get(security.CSRF_FIELD) if data else None
                    if not security.same_origin(request, state.settings) or not security.csrf_valid(
                        state.settings, binding, submitted if isinstance(submitted, str) else None
                    ):
                        raise CsrfRefused()
                if roles is not None and user is None:
                    return RedirectResponse(sign_in_url(request), status_code=303)
                if roles is not None and user is not None and user.role not in roles:
                    raise Forbidden("Your role does not give access to this page.")
                current = Page(
                    request=request,
                    state=state,
                    user=user,
                    csrf=security.csrf_token(state.settings, binding),
                    data=data,
                    new_anon=new_anon,
                )
                response = await run_in_threadpool(function, current)
            except AnswerdeskError as error:
                response = error_response(state, request, error.status, error.message, user)
                for name, value in (getattr(error, "headers", None) or {}).items():
                    response.headers[name] = value
            except Exception:
                log.exception("console page failed", extra={"path": request.url.path})
                response = error_response(
                    state, request, 500, "The error was logged. Please try again.", user
                )
            if new_anon is not None:
                security.set_cookie(
                    response, request, state.settings, security.ANON_COOKIE, new_anon, None
                )
            for name, value in security.SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        endpoint.__name__ = function.__name__
        endpoint.__doc__ = function.__doc__
        return endpoint

    return decorate
