"""The web console: agents take messages, clients read them and get tokens, admins run accounts.

`routes(settings, engine)` returns what the main app mounts: a redirect from
`/` and the console as its own small Starlette app under `/console`, so its
cookies, CSRF checks, security headers and HTML error pages never touch the
JSON APIs.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from answerdesk.config import Settings
from answerdesk.console.admin import accounts as admin_accounts
from answerdesk.console.admin import audit as admin_audit
from answerdesk.console.admin import pipeline as admin_pipeline
from answerdesk.console.admin import scripts as admin_scripts
from answerdesk.console.admin import tokens as admin_tokens
from answerdesk.console.admin import users as admin_users
from answerdesk.console.auth import views as auth_views
from answerdesk.console.crm import views as crm_views
from answerdesk.console.dashboard import views as dashboard_views
from answerdesk.console.desk import accounts as desk_accounts
from answerdesk.console.desk import listing, status, taking
from answerdesk.console.tokens import views as token_views
from answerdesk.console.web.errors import handle_error
from answerdesk.console.web.state import STATIC_DIR, ConsoleState, build_templates
from answerdesk.console.webhooks import views as webhook_views  # webhooks (issue 6)
from answerdesk.errors import AnswerdeskError
from answerdesk.mail import Mailer, mailer_from_settings


def _console_routes() -> list[BaseRoute]:
    return [
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        *auth_views.routes(),
        *desk_accounts.routes(),
        # `/messages/new` before `/messages/{message_id}`.
        *taking.routes(),
        *listing.routes(),
        *status.routes(),
        *token_views.routes(),
        *dashboard_views.routes(),
        *admin_accounts.routes(),
        *admin_scripts.routes(),
        *admin_users.routes(),
        *admin_tokens.routes(),
        *admin_audit.routes(),
        *admin_pipeline.routes(),
        *crm_views.routes(),
        *webhook_views.routes(),  # webhooks (issue 6)
    ]


def create_console(settings: Settings, engine: Engine, mailer: Mailer | None = None) -> Starlette:
    """Build the console app; the main app mounts it at `/console`."""
    console = Starlette(
        routes=_console_routes(),
        exception_handlers={AnswerdeskError: handle_error, HTTPException: handle_error},
    )
    console.state.console = ConsoleState(
        settings=settings,
        engine=engine,
        templates=build_templates(),
        mailer=mailer or mailer_from_settings(settings),
    )
    return console


async def _to_console(_request: Request) -> Response:
    return RedirectResponse("/console/", status_code=307)


def routes(settings: Settings, engine: Engine) -> list[BaseRoute]:
    """What the main app adds to its routes: `/` and everything under `/console`."""
    return [
        Route("/", _to_console, methods=["GET", "HEAD"]),
        Route("/console", _to_console, methods=["GET", "HEAD"]),
        Mount("/console", app=create_console(settings, engine), name="console"),
    ]


def console_state(app: Starlette) -> ConsoleState:
    """Return the console's state inside a main app (tests swap the mailer through it)."""
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/console":
            state: ConsoleState = route.app.state.console  # type: ignore[attr-defined]
            return state
    raise LookupError("the console is not mounted in this app")
