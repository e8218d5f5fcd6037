"""Tenant isolation: every route, with A's credentials and B's ids, answers "not found", leaks nothing.

The cases are keyed by route, and the test first checks that every route of
`app.routes` (every method but HEAD) has at least one case: a route added
later without a case fails here until someone says how it keeps accounts apart.
A case either must answer exactly as the same request with an id that does
not exist (`same_as`), or must answer with only A's own items (`own`), or is
refused by role (403) or sends to sign-in (a redirect). In every case no
string of B's data may appear in the body, and B's rows must be unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from tests.console.conftest import Browser, Console
from tests.crm_support import contacts_of, leads_of, text_messages_of
from tests.factories import Desk
from tests.security.world import World, b_fingerprint, build_world

MISSING_NUMBER = "99999999"
MISSING_ID = 999999999
#: Routes that hold no account data at all (probes, documents): checked for leaks only.
PUBLIC_API = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/postman.json")


@dataclass
class Case:
    """One request of A at one route, and what its answer must be."""

    route: str
    method: str
    url: str
    expect: str  # same_as | own | forbidden | redirect | public
    reference: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    check: Callable[[Any], None] | None = None


def route_table(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(path template, method) for every route of the app, HEAD left out.

    A mounted app with routes is walked; one without (static files) counts
    as a single GET route at its mount point.
    """
    table: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if inner is None:
                table.add((prefix + route.path, "GET"))
            else:
                table |= route_table(inner, prefix + route.path)
            continue
        assert isinstance(route, Route), f"unexpected route kind {route!r}: add it to this test"
        for method in route.methods or ():
            if method != "HEAD":
                table.add((prefix + route.path, method))
    return table


def _own(ids: set[int], key: Callable[[dict[str, Any]], int]) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        assert response.status_code == 200, response.text
        items = response.json()
        items = items["items"] if isinstance(items, dict) else items
        assert {key(item) for item in items} <= ids, items

    return check


def api_cases(world: World, desk: Desk) -> list[Case]:
    """The API half of the matrix (A's client token; B's ids)."""
    engine = desk.engine
    a_number = world.a.number

    def own_messages(response: Any) -> None:
        assert response.status_code == 200, response.text
        assert {item["account_number"] for item in response.json()} <= {a_number}

    own_texts = _own({row.id for row in text_messages_of(engine, world.a.id)}, _data_id)
    own_leads = _own({row.id for row in leads_of(engine, world.a.id)}, _data_id)
    own_contacts = _own({row.id for row in contacts_of(engine, world.a.id)}, _data_id)
    first_b = min(world.b_messages)
    cases: list[Case] = []
    for version in ("v1", "v2"):
        for query in (
            "",
            "?from_date=01-01-2000&to_date=12-31-2099",
            f"?after_id={first_b - 1}",
            "?after_id=0&limit=1000",
            f"?after_id={first_b - 1}&limit=1",
        ):
            cases.append(
                Case(
                    f"/{version}/messages",
                    "GET",
                    f"/{version}/messages{query}",
                    "own",
                    check=own_messages,
                )
            )
        for message_id in world.b_messages:
            cases.append(
                Case(
                    f"/{version}/messages/{{message_id}}",
                    "GET",
                    f"/{version}/messages/{message_id}",
                    "same_as",
                    f"/{version}/messages/{MISSING_ID}",
                )
            )
    b_texts = ",".join(map(str, world.b_text_messages))
    for path in ("/v2/text_messages", "/v2/text_messages.json"):
        for query in (
            "",
            f"?ids={b_texts}",
            f"?ids={world.b_text_messages[0]}&ids={world.a_message}",
            f"?resource_type=lead&resource_id={world.b_lead}",
            f"?resource_type=contact&resource_id={world.b_contact}",
            "?per_page=100&sort_by=id:asc",
        ):
            cases.append(Case(path, "GET", path + query, "own", check=own_texts))
    for text_id in world.b_text_messages:
        cases.append(
            Case(
                "/v2/text_messages/{id}",
                "GET",
                f"/v2/text_messages/{text_id}",
                "same_as",
                f"/v2/text_messages/{MISSING_ID}",
            )
        )
    for kind, record, phone, email, check in (
        ("leads", world.b_lead, "+16175550199", "zq77@caller.example", own_leads),
        ("contacts", world.b_contact, "(617) 555-0188", "CQ88@bravo.example", own_contacts),
    ):
        for query in (
            "",
            f"?ids={record}",
            f"?phone={phone}",
            f"?email={email}",
            "?per_page=100&sort_by=updated_at:desc",
        ):
            cases.append(Case(f"/v2/{kind}", "GET", f"/v2/{kind}{query}", "own", check=check))
        cases.append(
            Case(
                f"/v2/{kind}/{{id}}",
                "GET",
                f"/v2/{kind}/{record}",
                "same_as",
                f"/v2/{kind}/{MISSING_ID}",
            )
        )
    # A client token may take no message at all, so B's number reads like a missing one.
    agent_route = "/agent/v1/accounts/{number}/messages"
    cases.append(
        Case(
            agent_route,
            "POST",
            f"/agent/v1/accounts/{world.b.number}/messages",
            "same_as",
            f"/agent/v1/accounts/{MISSING_NUMBER}/messages",
            data={"content": "from A"},
        )
    )
    cases.extend(Case(path, "GET", path, "public") for path in PUBLIC_API)
    return cases


def _data_id(item: dict[str, Any]) -> int:
    return int(item["data"]["id"])


def console_cases(world: World) -> list[Case]:
    """The console half (A's client signed in; B's account number and ids)."""
    a, b, missing = world.a.number, world.b.number, MISSING_NUMBER
    bm, x = world.b_messages[0], MISSING_ID
    acc = "/console/accounts/{number}"
    cases = [
        Case("/", "GET", "/", "redirect"),
        Case("/console", "GET", "/console", "redirect"),
        Case("/console/", "GET", "/console/", "own"),
        Case("/console/dashboard", "GET", "/console/dashboard", "own"),
        Case("/console/tokens", "GET", "/console/tokens", "own"),
        Case(
            "/console/tokens/new", "POST", "/console/tokens/new", "own", data={"expires_days": "30"}
        ),
        Case(
            "/console/tokens/{token_id}/revoke",
            "POST",
            f"/console/tokens/{world.b_token_id}/revoke",
            "same_as",
            f"/console/tokens/{x}/revoke",
        ),
        Case("/console/accounts", "GET", "/console/accounts", "forbidden"),
        Case(acc + "/messages/new", "GET", f"/console/accounts/{b}/messages/new", "forbidden"),
        Case(
            acc + "/messages/new",
            "POST",
            f"/console/accounts/{b}/messages/new",
            "forbidden",
            data={"content": "from A"},
        ),
        Case(
            acc + "/messages",
            "GET",
            f"/console/accounts/{b}/messages",
            "same_as",
            f"/console/accounts/{missing}/messages",
        ),
        Case(
            acc + "/messages",
            "GET",
            f"/console/accounts/{b}/messages?status=new",
            "same_as",
            f"/console/accounts/{missing}/messages?status=new",
        ),
        Case(
            acc + "/dashboard",
            "GET",
            f"/console/accounts/{b}/dashboard",
            "same_as",
            f"/console/accounts/{missing}/dashboard",
        ),
        Case(
            acc + "/crm",
            "GET",
            f"/console/accounts/{b}/crm",
            "same_as",
            f"/console/accounts/{missing}/crm",
        ),
        Case(
            acc + "/crm",
            "GET",
            f"/console/accounts/{b}/crm?kind=contact",
            "same_as",
            f"/console/accounts/{missing}/crm?kind=contact",
        ),
    ]
    for number, ref_number in ((b, missing), (a, a)):
        cases += [
            Case(
                acc + "/messages/{message_id}",
                "GET",
                f"/console/accounts/{number}/messages/{bm}",
                "same_as",
                f"/console/accounts/{ref_number}/messages/{x}",
            ),
            Case(
                acc + "/messages/{message_id}/status",
                "POST",
                f"/console/accounts/{number}/messages/{bm}/status",
                "same_as",
                f"/console/accounts/{ref_number}/messages/{x}/status",
                data={"status": "read"},
            ),
            Case(
                acc + "/crm/{kind}/{record_id}",
                "GET",
                f"/console/accounts/{number}/crm/lead/{world.b_lead}",
                "same_as",
                f"/console/accounts/{ref_number}/crm/lead/{x}",
            ),
            Case(
                acc + "/crm/{kind}/{record_id}",
                "GET",
                f"/console/accounts/{number}/crm/contact/{world.b_contact}",
                "same_as",
                f"/console/accounts/{ref_number}/crm/contact/{x}",
            ),
            Case(
                acc + "/crm/lead/{record_id}/convert",
                "POST",
                f"/console/accounts/{number}/crm/lead/{world.b_lead}/convert",
                "same_as",
                f"/console/accounts/{ref_number}/crm/lead/{x}/convert",
            ),
        ]
    admin = "/console/admin"
    b_user = world.b_client.user.id
    for route, method, url in (
        (admin + "/accounts/new", "GET", admin + "/accounts/new"),
        (admin + "/accounts/new", "POST", admin + "/accounts/new"),
        (admin + "/accounts/{account_id}", "GET", f"{admin}/accounts/{world.b.id}"),
        (admin + "/accounts/{account_id}", "POST", f"{admin}/accounts/{world.b.id}"),
        (admin + "/accounts/{account_id}/script", "GET", f"{admin}/accounts/{world.b.id}/script"),
        (
            admin + "/accounts/{account_id}/script/add",
            "POST",
            f"{admin}/accounts/{world.b.id}/script/add",
        ),
        (
            admin + "/accounts/{account_id}/script/{field_id}",
            "POST",
            f"{admin}/accounts/{world.b.id}/script/{world.b_field_id}",
        ),
        (admin + "/users", "GET", admin + "/users"),
        (admin + "/users/new", "GET", admin + "/users/new"),
        (admin + "/users/new", "POST", admin + "/users/new"),
        (admin + "/users/{user_id}", "GET", f"{admin}/users/{b_user}"),
        (admin + "/users/{user_id}/{action}", "POST", f"{admin}/users/{b_user}/disable"),
        (admin + "/tokens", "GET", admin + "/tokens"),
        (admin + "/tokens/{token_id}/revoke", "POST", f"{admin}/tokens/{world.b_token_id}/revoke"),
        (admin + "/audit", "GET", admin + "/audit"),
        (admin + "/pipeline", "GET", admin + "/pipeline"),
        (admin + "/pipeline/retry", "POST", admin + "/pipeline/retry"),
    ):
        cases.append(Case(route, method, url, "forbidden"))
    # Webhooks (issue 6); B's real endpoint and event ids: tests/console/test_webhooks_console.py
    hooks, new, replay = "/console/webhooks", "/console/webhooks/new", "/console/webhooks/replay"
    hook, form = (
        hooks + "/{endpoint_id}/{action}",
        {"url": "https://93.184.216.34/", "message.created": "on"},
    )
    cases += [
        Case(hooks, "GET", hooks, "own"),
        Case(new, "POST", new, "own", data=form),
        Case(replay, "POST", replay, "same_as", replay, data={"event_id": "evt_0"}),
        Case(hook, "POST", f"{hooks}/{x - 1}/disable", "same_as", f"{hooks}/{x}/disable"),
    ]
    return cases


def anonymous_cases(world: World) -> list[Case]:
    """Public pages, asked by a stranger about B: they say nothing about B either."""
    email = world.b_client.user.email
    return [
        Case("/console/sign-in", "GET", "/console/sign-in", "public"),
        Case("/console/static", "GET", "/console/static/console.css", "public"),
        Case(
            "/console/sign-in",
            "POST",
            "/console/sign-in",
            "public",
            data={"email": email, "password": "not the password"},
        ),
        Case("/console/forgot", "GET", "/console/forgot", "public"),
        Case(
            "/console/forgot",
            "POST",
            "/console/forgot",
            "same_as",
            "/console/forgot",
            data={"email": email},
        ),
        Case("/console/password/{token}", "GET", "/console/password/" + "x" * 43, "public"),
        Case(
            "/console/password/{token}",
            "POST",
            "/console/password/" + "x" * 43,
            "public",
            data={"password": "a new long password", "confirm": "a new long password"},
        ),
        Case("/console/sign-out", "POST", "/console/sign-out", "redirect"),
    ]


_CSRF = re.compile(r'(name="csrf_token" value=")[^"]+"')


def _normalised(response: Any, url: str, *, replace: str = "") -> Any:
    """The body with what legitimately differs between two requests taken out."""
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and "meta" in body and "logref" in body["meta"]:
            body["meta"]["logref"] = "-"
        return body
    text = response.text.replace(url.split("?")[0], "PATH")
    if replace:
        text = text.replace(replace, "TYPED")
    return _CSRF.sub(r'\1-"', text)


def run_case(send: Callable[..., Any], case: Case, world: World) -> None:
    """Send one case and assert its promise; raise AssertionError naming the case."""
    response = send(case.method, case.url, case.data)
    label = f"{case.method} {case.url}"
    assert response.status_code < 500, (label, response.status_code)
    assert not world.leaks(response.content), (label, world.leaks(response.content))
    if case.expect == "same_as":
        assert case.reference is not None
        reference = send(case.method, case.reference, case.data)
        assert response.status_code == reference.status_code, (label, response.text)
        assert response.status_code in (403, 404) or case.route == "/console/forgot", label
        typed = case.data.get("email", "")
        assert _normalised(response, case.url, replace=typed) == _normalised(
            reference, case.reference, replace=typed
        ), label
    elif case.expect == "own":
        assert response.status_code == 200, (label, response.status_code)
        if case.check is not None:
            case.check(response)
    elif case.expect == "forbidden":
        assert response.status_code == 403, (label, response.status_code)
    elif case.expect == "redirect":
        assert response.status_code in (302, 303, 307), (label, response.status_code)
    else:
        assert case.expect == "public", label


def _api_sender(http: TestClient, world: World) -> Callable[..., Any]:
    def send(method: str, url: str, data: dict[str, Any]) -> Any:
        login = world.a_client
        headers = {**login.headers, **login.bearer}
        if method == "POST":
            return http.post(url, json=data, headers=login.bearer)
        return http.request(method, url, headers=headers)

    return send


def _browser_sender(browser: Browser) -> Callable[..., Any]:
    def send(method: str, url: str, data: dict[str, Any]) -> Any:
        if method == "POST":
            return browser.post(url, data)
        return browser.get(url, follow_redirects=url in ("/console/", "/console/dashboard"))

    return send


def test_every_route_keeps_account_b_from_account_a(app: Any, http: TestClient, desk: Desk) -> None:
    world = build_world(desk)
    before = b_fingerprint(desk.engine, world)
    console = Console(app)
    api = api_cases(world, desk)
    signed_in = console_cases(world)
    anonymous = anonymous_cases(world)
    covered = {(case.route, case.method) for case in [*api, *signed_in, *anonymous]}
    missing = route_table(app.routes) - covered
    assert not missing, f"routes without an isolation case: {sorted(missing)}"
    for case in api:
        run_case(_api_sender(http, world), case, world)
    browser = console.sign_in(world.a_client.user)
    for case in signed_in:
        run_case(_browser_sender(browser), case, world)
    for case in anonymous[:-1]:
        run_case(_browser_sender(console.browser()), case, world)
    run_case(_browser_sender(console.sign_in(world.a_second.user)), anonymous[-1], world)
    for version in ("v1", "v2"):  # HEAD shares GET's route: same refusal, no body
        head = http.head(
            f"/{version}/messages/{world.b_messages[0]}", headers=world.a_client.headers
        )
        assert (head.status_code, head.content) == (404, b"")
    assert b_fingerprint(desk.engine, world) == before
    # B's own token still works: nothing A did revoked or disabled it.
    assert http.get("/v1/messages", headers=world.b_client.headers).status_code == 200
    total = len(api) + len(signed_in) + len(anonymous)
    print(f"isolation matrix: {total} cases, {len(covered)} routes and methods, 0 leaks")
