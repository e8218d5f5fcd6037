"""Sign-in (throttled), sign-out, forgotten passwords and password links."""

from __future__ import annotations

import math
from datetime import timedelta

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import password_links, throttle
from answerdesk.accounts import get_account
from answerdesk.console.web import security
from answerdesk.console.web.mailing import send_password_link
from answerdesk.console.web.pages import Page, safe_next, view
from answerdesk.errors import ValidationFailed
from answerdesk.sessions import end_session, start_session
from answerdesk.users import MIN_PASSWORD_LENGTH, authenticate, find_user

WRONG = "The e-mail address or the password is not right."


def _limits(page: Page) -> throttle.Limits:
    settings = page.settings
    return throttle.Limits(
        per_address=settings.sign_in_limit_per_address,
        per_account=settings.sign_in_limit_per_account,
        window=timedelta(minutes=settings.sign_in_window_minutes),
    )


def _address(page: Page) -> str:
    return page.request.client.host if page.request.client else "unknown"


def _wait_text(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


@view(roles=None)
def home(page: Page) -> Response:
    """Send each person to where their work is."""
    if page.user is None:
        return page.redirect("/console/sign-in")
    if page.user.role == "client" and page.user.account_id is not None:
        with page.read() as connection:
            account = get_account(connection, account_id=page.user.account_id)
        return page.redirect(f"/console/accounts/{account.number}/messages")
    return page.redirect("/console/accounts")


@view(roles=("client",))
def client_dashboard(page: Page) -> Response:
    """A client's dashboard link: their own account's dashboard."""
    assert page.me.account_id is not None
    with page.read() as connection:
        account = get_account(connection, account_id=page.me.account_id)
    return page.redirect(f"/console/accounts/{account.number}/dashboard")


@view(roles=None)
def sign_in(page: Page) -> Response:
    """Show the form; on POST check throttling, then the password, then open a session."""
    form = page.form(["email", "next"])
    if page.data is None:
        form.values["next"] = safe_next(page.param("next"))
        return page.render("auth/sign_in.html", form=form, notice=page.param("notice"))
    email = form.get("email").strip().lower()
    password = page.data.get("password")
    password = password if isinstance(password, str) else ""
    if not email:
        form.errors["email"] = "is required"
    if not password:
        form.errors["password"] = "is required"  # noqa: S105 (an error text, not a password)
    if form.errors:
        return page.render("auth/sign_in.html", status=422, form=form, notice="")
    limits, address = _limits(page), _address(page)
    with page.read() as connection:
        wait = throttle.retry_after(connection, address=address, email=email, limits=limits)
    if wait is not None:
        form.summary = _wait_text(wait)
        page.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
        return page.render("auth/sign_in.html", status=429, form=form, notice="")
    with page.read() as connection:
        user = authenticate(connection, email=email, password=password)
    if user is None:
        with page.write() as connection:
            throttle.record_failure(connection, address=address, email=email, limits=limits)
        form.summary = WRONG
        return page.render("auth/sign_in.html", status=422, form=form, notice="")
    lifetime = timedelta(hours=page.settings.session_lifetime_hours)
    previous = page.request.cookies.get(security.SESSION_COOKIE)
    with page.write() as connection:
        throttle.clear_failures(connection, email=email)
        if previous:  # a fresh session per sign-in; the browser's old one ends
            end_session(connection, token=previous)
        token = start_session(connection, user_id=user.id, lifetime=lifetime)
    response = page.redirect(safe_next(form.get("next")))
    security.set_cookie(
        response,
        page.request,
        page.settings,
        security.SESSION_COOKIE,
        token,
        int(lifetime.total_seconds()),
    )
    return response


@view(roles=None)
def sign_out(page: Page) -> Response:
    """End this browser's session (POST only, with the CSRF token)."""
    token = page.request.cookies.get(security.SESSION_COOKIE)
    if token:
        with page.write() as connection:
            end_session(connection, token=token)
    response = page.redirect("/console/sign-in?notice=signed-out")
    security.clear_cookie(response, page.request, page.settings, security.SESSION_COOKIE)
    return response


@view(roles=None)
def forgot(page: Page) -> Response:
    """Ask for a reset link; the answer is the same whether the address exists or not."""
    form = page.form(["email"])
    if page.data is None:
        return page.render("auth/forgot.html", form=form, sent=False)
    email = form.get("email").strip().lower()
    if not email:
        form.errors["email"] = "is required"
        return page.render("auth/forgot.html", status=422, form=form, sent=False)
    limits, address = _limits(page), _address(page)
    with page.write() as connection:
        wait = throttle.retry_after(
            connection, address=address, email=email, limits=limits, action="reset"
        )
        if wait is not None:
            form.summary = _wait_text(wait)
            return page.render("auth/forgot.html", status=429, form=form, sent=False)
        throttle.record_failure(
            connection, address=address, email=email, limits=limits, action="reset"
        )
        user = find_user(connection, email=email)
        token = None
        if user is not None and not user.disabled:
            token = password_links.issue_link(connection, user_id=user.id, purpose="reset")
    if user is not None and token is not None:
        send_password_link(page, user, token, "reset")
    return page.render("auth/forgot.html", form=form, sent=True)


@view(roles=None)
def password_link(page: Page) -> Response:
    """Set a password through an invitation or reset link."""
    token = str(page.request.path_params["token"])
    page.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    with page.read() as connection:
        user, purpose = password_links.link_user(connection, token=token)
    form = page.form([])
    if page.data is None:
        return page.render("auth/password.html", form=form, person=user, purpose=purpose)
    password = page.data.get("password")
    confirm = page.data.get("confirm")
    password = password if isinstance(password, str) else ""
    if len(password) < MIN_PASSWORD_LENGTH:
        form.errors["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    elif password != confirm:
        form.errors["confirm"] = "does not match the password"
    if not form.errors:
        try:
            with page.write() as connection:
                password_links.redeem_link(connection, token=token, password=password)
        except ValidationFailed as error:
            form.fail(error.errors)
    if form.errors:
        return page.render(
            "auth/password.html", status=422, form=form, person=user, purpose=purpose
        )
    return page.redirect("/console/sign-in?notice=password-set")


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/dashboard", client_dashboard, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["GET", "POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/forgot", forgot, methods=["GET", "POST"]),
        Route("/password/{token}", password_link, methods=["GET", "POST"]),
    ]
