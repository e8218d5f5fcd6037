"""Tenant isolation under any sequence of work: a Hypothesis state machine.

Three accounts take messages through the agent API, have them delivered and
carried into the CRM, and read everything back through both Messages API
versions and the Sell API, in whatever order Hypothesis picks. The one
invariant: every item an account's token is answered with belongs to that
account, checked against the database (not a model), so rows left by earlier
examples on the same database are covered too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from answerdesk.messages.lifecycle import change_status
from answerdesk.store.engine import read_transaction, write_transaction
from answerdesk.store.tables import leads, messages, text_messages
from answerdesk.sync import run_worker
from tests.factories import ClientLogin, Desk

ACCOUNTS = 3
#: Bounded so the machine stays a few seconds per database in CI.
MACHINE_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LIST_QUERIES = ("", "?after_id=0&limit=3", "?from_date=01-01-2000", "?limit=1000")
SELL_QUERIES = ("", "?sort_by=id:asc&per_page=2", "?page=2&per_page=1")


def _owned(engine: Any, table: sa.Table, account_id: int) -> set[int]:
    with read_transaction(engine) as connection:
        query = sa.select(table.c.id).where(table.c.account_id == account_id)
        return set(connection.execute(query).scalars())


def test_every_item_returned_belongs_to_the_callers_account(http: TestClient, desk: Desk) -> None:
    engine = desk.engine
    agent = desk.staff("agent")
    totals = {"taken": 0, "items read": 0}

    class Desks(RuleBasedStateMachine):
        """Accounts working side by side on one database."""

        @initialize()
        def open_accounts(self) -> None:
            self.accounts = [desk.account(name=f"Tenant {index}") for index in range(ACCOUNTS)]
            self.logins: list[ClientLogin] = [desk.client_of(a) for a in self.accounts]
            self.taken: list[int] = []

        @rule(
            who=st.integers(0, ACCOUNTS - 1),
            caller=st.integers(0, 5),
            key=st.none() | st.sampled_from(["k1", "k2"]),
        )
        def take(self, who: int, caller: int, key: str | None) -> None:
            """Take a message for one account (callers repeat, so leads are matched)."""
            account = self.accounts[who]
            headers = dict(agent.bearer)
            if key is not None:
                headers["Idempotency-Key"] = f"{account.number}-{key}-{caller}"
            body = {"content": f"for tenant {who}", "phone": f"617 555 01{caller:02d}"}
            response = http.post(
                f"/agent/v1/accounts/{account.number}/messages", json=body, headers=headers
            )
            assert response.status_code == 201, response.text
            assert response.json()["account_number"] == account.number
            self.taken.append(response.json()["message_id"])
            totals["taken"] += 1

        @rule(who=st.integers(0, ACCOUNTS - 1), pick=st.integers(0, 1000))
        def deliver(self, who: int, pick: int) -> None:
            """Deliver one of the account's messages (or try another account's: refused)."""
            if not self.taken:
                return
            message_id = self.taken[pick % len(self.taken)]
            account = self.accounts[who]
            mine = message_id in _owned(engine, messages, account.id)
            try:
                with write_transaction(engine) as connection:
                    change_status(
                        connection,
                        account_id=account.id,
                        message_id=message_id,
                        status="delivered",
                        delivered_to="front desk",
                    )
            except Exception as error:  # which error it is, is the point
                assert type(error).__name__ in ("MessageNotFound", "Conflict"), error
                assert not mine or type(error).__name__ == "Conflict"
            else:
                assert mine, "delivered another account's message"

        @invariant()
        def every_account_reads_only_its_own(self) -> None:
            """After every step, whatever it was: each account's full list and texts are its own."""
            for who, (account, login) in enumerate(zip(self.accounts, self.logins, strict=True)):
                listed = http.get(f"/v{1 + who % 2}/messages", headers=login.headers).json()
                assert {item["message_id"] for item in listed} <= _owned(
                    engine, messages, account.id
                )
                texts = http.get("/v2/text_messages?per_page=100", headers=login.bearer).json()
                got = {item["data"]["id"] for item in texts["items"]}
                assert got <= _owned(engine, text_messages, account.id)
                totals["items read"] += len(listed) + len(got)

        @rule()
        def carry(self) -> None:
            run_worker(engine, once=True)

        @rule(
            who=st.integers(0, ACCOUNTS - 1),
            version=st.sampled_from(["v1", "v2"]),
            query=st.sampled_from(LIST_QUERIES),
        )
        def read_list(self, who: int, version: str, query: str) -> None:
            response = http.get(f"/{version}/messages{query}", headers=self.logins[who].headers)
            assert response.status_code == 200, response.text
            items = response.json()
            own = _owned(engine, messages, self.accounts[who].id)
            assert {item["message_id"] for item in items} <= own
            assert {item["account_number"] for item in items} <= {self.accounts[who].number}
            totals["items read"] += len(items)

        @rule(who=st.integers(0, ACCOUNTS - 1), pick=st.integers(0, 1000))
        def read_one(self, who: int, pick: int) -> None:
            if not self.taken:
                return
            message_id = self.taken[pick % len(self.taken)]
            response = http.get(f"/v1/messages/{message_id}", headers=self.logins[who].headers)
            own = message_id in _owned(engine, messages, self.accounts[who].id)
            assert response.status_code == (200 if own else 404), response.text
            totals["items read"] += 1

        @rule(
            who=st.integers(0, ACCOUNTS - 1),
            query=st.sampled_from(SELL_QUERIES),
            by_ids=st.booleans(),
        )
        def read_text_messages(self, who: int, query: str, by_ids: bool) -> None:
            """Read the carried text messages, also asking for every id there is."""
            login = self.logins[who]
            if by_ids:
                with read_transaction(engine) as connection:
                    every = connection.execute(sa.select(text_messages.c.id)).scalars().all()
                sep = "&" if query else "?"
                query += f"{sep}ids=" + ",".join(map(str, every[-50:] or [1]))
            response = http.get(f"/v2/text_messages{query}", headers=login.bearer)
            assert response.status_code == 200, response.text
            got = {item["data"]["id"] for item in response.json()["items"]}
            assert got <= _owned(engine, text_messages, self.accounts[who].id)
            for text_id in got:  # and each one reads singly, to its owner only
                assert http.get(f"/v2/text_messages/{text_id}", headers=login.bearer).is_success
            totals["items read"] += len(got)

        @rule(who=st.integers(0, ACCOUNTS - 1), caller=st.integers(0, 5))
        def read_leads(self, who: int, caller: int) -> None:
            response = http.get(
                f"/v2/leads?phone=617555 01{caller:02d}", headers=self.logins[who].bearer
            )
            assert response.status_code == 200, response.text
            got = {item["data"]["id"] for item in response.json()["items"]}
            assert got <= _owned(engine, leads, self.accounts[who].id)

    run_state_machine_as_test(Desks, settings=MACHINE_SETTINGS)
    assert totals["taken"] > 0 and totals["items read"] > 0, totals  # it did work
    print(f"isolation state machine: {totals}, 0 foreign items")
