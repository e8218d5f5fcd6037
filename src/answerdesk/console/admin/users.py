"""People: list and search, invite (agents, clients, admins), reset passwords, disable."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import audit, password_links, tokens, user_admin
from answerdesk.accounts import get_account
from answerdesk.console.web.mailing import send_password_link
from answerdesk.console.web.pages import ADMIN, Page, view
from answerdesk.errors import NotFound, ValidationFailed
from answerdesk.users import ROLES, get_user

FIELDS = ["email", "name", "role", "account_number"]
PAGE = 50


@view(roles=ADMIN)
def list_users(page: Page) -> Response:
    """Users by id, 50 a page, filtered by role and by name or e-mail."""
    search, role = page.param("q")[:100], page.param("role")
    after = page.param("after")
    with page.read() as connection:
        rows = user_admin.list_users(
            connection,
            search=search or None,
            role=role or None,
            after_id=int(after) if after.isdigit() else None,
            limit=PAGE + 1,
        )
    return page.render(
        "admin/users.html",
        rows=rows[:PAGE],
        next_after=rows[PAGE - 1].user.id if len(rows) > PAGE else None,
        search=search,
        role=role,
        roles=ROLES,
        paged=bool(after),
    )


@view(roles=ADMIN)
def new_user(page: Page) -> Response:
    """Create a user and e-mail them an invitation to choose a password."""
    form = page.form(FIELDS)
    if page.data is None:
        form.values["role"] = page.param("role") if page.param("role") in ROLES else "agent"
        form.values["account_number"] = page.param("account")
        return page.render("admin/user_form.html", form=form, roles=ROLES)
    try:
        with page.write() as connection:
            user = user_admin.create_from_form(
                connection, form=user_admin.UserForm(**{k: form.get(k) for k in FIELDS})
            )
            token = password_links.issue_link(connection, user_id=user.id, purpose="invite")
            audit.record(
                connection,
                actor=page.me,
                action="user.create",
                target=user.email,
                detail=f"{user.role}"
                + (f" of account {form.get('account_number').strip()}" if user.account_id else ""),
            )
    except ValidationFailed as error:
        form.fail(error.errors, {"account": "account_number"})
        return page.render("admin/user_form.html", status=422, form=form, roles=ROLES)
    sent = send_password_link(page, user, token, "invite")
    return page.redirect(f"/console/admin/users/{user.id}?invited={'1' if sent else 'failed'}")


@view(roles=ADMIN)
def show_user(page: Page) -> Response:
    """One person: role, account, state, tokens, and the admin's actions."""
    user_id = page.path_int("user_id")
    with page.read() as connection:
        person = get_user(connection, user_id=user_id)
        account = (
            get_account(connection, account_id=person.account_id) if person.account_id else None
        )
        owned = tokens.list_tokens(connection, user_id=person.id)
    return page.render(
        "admin/user.html",
        person=person,
        account=account,
        tokens=owned,
        notice=page.param("invited") or page.param("done"),
    )


@view(roles=ADMIN)
def user_action(page: Page) -> Response:
    """Send a reset link, disable or enable the person."""
    user_id = page.path_int("user_id")
    action = str(page.request.path_params["action"])
    with page.write() as connection:
        person = get_user(connection, user_id=user_id)
        token = None
        if action == "reset":
            token = password_links.issue_link(connection, user_id=user_id, purpose="reset")
        elif action in ("disable", "enable"):
            if person.id == page.me.id:
                raise ValidationFailed(
                    {"user": "you cannot disable yourself"}, "You cannot disable your own account."
                )
            user_admin.set_disabled(connection, user_id=user_id, disabled=action == "disable")
        else:
            raise NotFound("Page not found")
        audit.record(connection, actor=page.me, action=f"user.{action}", target=person.email)
    done = action
    if token is not None and not send_password_link(page, person, token, "reset"):
        done = "reset-failed"
    return page.redirect(f"/console/admin/users/{user_id}?done={done}")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/users", list_users, methods=["GET"]),
        Route("/admin/users/new", new_user, methods=["GET", "POST"]),
        Route("/admin/users/{user_id}", show_user, methods=["GET"]),
        Route("/admin/users/{user_id}/{action}", user_action, methods=["POST"]),
    ]
