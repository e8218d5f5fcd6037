"""After a time-zone change, the stored wire JSON is re-rendered in chunks (messages/rerender.py).

Every answer stays byte for byte a fresh render before, during and after the
walk; a walk cut short (stopped, or failing mid-chunk) leaves what it
committed and nothing half-written, and another walk finishes it.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.accounts import list_accounts, update_account
from answerdesk.messages import prerender, rerender
from answerdesk.messages.prerender import Chunk
from answerdesk.messages.rerender import rerender_account
from answerdesk.store.engine import write_transaction
from tests.factories import Desk
from tests.rerender_support import FIELDS, assert_answers_are_fresh, stored_zones, take_varied

COUNT = 23
CHUNK = 5


def change_zone(engine: Engine, account_id: int, timezone: str) -> None:
    with write_transaction(engine) as connection:
        update_account(connection, account_id=account_id, timezone=timezone)


def walk_changing_zone_after_first_chunk(engine: Engine, account_id: int, timezone: str) -> None:
    """Walk the account in chunks of CHUNK; after the first, change its zone to `timezone`."""
    seen: list[Chunk] = []

    def change_after_first(chunk: Chunk) -> None:
        seen.append(chunk)
        if len(seen) == 1:
            change_zone(engine, account_id, timezone)

    rerender_account(
        engine, account_id=account_id, chunk_size=CHUNK, pause_ratio=0, on_chunk=change_after_first
    )


def test_walk_stores_every_row_in_the_new_zone_and_answers_stay_fresh(
    http: TestClient, desk: Desk, engine: Engine
) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    login = desk.client_of(account)
    taken = take_varied(desk, account, COUNT)
    change_zone(engine, account.id, "Asia/Kolkata")
    assert "Asia/Kolkata" not in stored_zones(engine, account.id).values()
    assert_answers_are_fresh(http, login, engine, account.id)  # rendered on the fly

    chunks: list[Chunk] = []
    result = rerender_account(
        engine, account_id=account.id, chunk_size=CHUNK, pause_ratio=0, on_chunk=chunks.append
    )

    assert (result.seen, result.rendered, result.finished) == (COUNT, COUNT, True)
    assert [chunk.seen for chunk in chunks] == [5, 5, 5, 5, 3]
    assert set(stored_zones(engine, account.id).values()) == {"Asia/Kolkata"}
    assert_answers_are_fresh(http, login, engine, account.id)  # stored, same bytes
    again = rerender_account(engine, account_id=account.id, chunk_size=CHUNK, pause_ratio=0)
    assert (again.seen, again.rendered) == (COUNT, 0)
    forced = rerender_account(engine, account_id=account.id, force=True, pause_ratio=0)
    assert forced.rendered == COUNT
    assert sorted(stored_zones(engine, account.id)) == taken


def test_walk_leaves_other_accounts_alone(desk: Desk, engine: Engine) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    other = desk.account(timezone="America/New_York", fields=FIELDS)
    take_varied(desk, account, 4)
    take_varied(desk, other, 4)
    change_zone(engine, account.id, "Europe/London")
    change_zone(engine, other.id, "Europe/Paris")
    rerender_account(engine, account_id=account.id, chunk_size=2, pause_ratio=0)
    assert set(stored_zones(engine, account.id).values()) == {"Europe/London"}
    assert "Europe/Paris" not in stored_zones(engine, other.id).values()


def test_walk_stopped_after_its_first_chunk_is_safe_and_a_rerun_finishes(
    http: TestClient, desk: Desk, engine: Engine
) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    login = desk.client_of(account)
    taken = take_varied(desk, account, COUNT)
    change_zone(engine, account.id, "Australia/Lord_Howe")  # a half-hour DST zone
    stop = threading.Event()

    stopped = rerender_account(
        engine,
        account_id=account.id,
        chunk_size=CHUNK,
        stop=stop,
        on_chunk=lambda _chunk: stop.set(),
    )

    assert (stopped.seen, stopped.rendered, stopped.finished) == (CHUNK, CHUNK, False)
    zones = stored_zones(engine, account.id)
    assert [zones[i] == "Australia/Lord_Howe" for i in taken] == [True] * CHUNK + [False] * (
        COUNT - CHUNK
    )
    assert_answers_are_fresh(http, login, engine, account.id)  # half stored, half rendered
    rest = rerender_account(engine, account_id=account.id, chunk_size=CHUNK, pause_ratio=0)
    assert (rest.seen, rest.rendered, rest.finished) == (COUNT, COUNT - CHUNK, True)
    assert set(stored_zones(engine, account.id).values()) == {"Australia/Lord_Howe"}
    assert_answers_are_fresh(http, login, engine, account.id)


def test_walk_failing_mid_chunk_keeps_committed_chunks_only(
    http: TestClient, desk: Desk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash inside the second chunk: the first is kept, the second rolled back whole."""
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    login = desk.client_of(account)
    taken = take_varied(desk, account, COUNT)
    change_zone(engine, account.id, "Europe/London")
    real = prerender.stored_wire
    calls = 0

    def failing(row: object, **kwargs: object) -> tuple[str, str]:
        nonlocal calls
        calls += 1
        if calls == CHUNK + 3:  # the third row of the second chunk
            raise RuntimeError("killed")
        return real(row, **kwargs)

    monkeypatch.setattr(prerender, "stored_wire", failing)
    with pytest.raises(RuntimeError, match="killed"):
        rerender_account(engine, account_id=account.id, chunk_size=CHUNK, pause_ratio=0)
    monkeypatch.setattr(prerender, "stored_wire", real)

    zones = stored_zones(engine, account.id)
    assert [i for i in taken if zones[i] == "Europe/London"] == taken[:CHUNK]
    assert_answers_are_fresh(http, login, engine, account.id)
    rest = rerender_account(engine, account_id=account.id, chunk_size=CHUNK, pause_ratio=0)
    assert rest.rendered == COUNT - CHUNK
    assert set(stored_zones(engine, account.id).values()) == {"Europe/London"}
    assert_answers_are_fresh(http, login, engine, account.id)


def test_zone_changed_again_mid_walk_is_never_served_stale(
    http: TestClient, desk: Desk, engine: Engine
) -> None:
    """Chunks written after a second change carry the zone they saw; readers render the rest."""
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    login = desk.client_of(account)
    take_varied(desk, account, COUNT)
    change_zone(engine, account.id, "Europe/London")
    walk_changing_zone_after_first_chunk(engine, account.id, "Asia/Tokyo")
    zones = list(stored_zones(engine, account.id).values())
    assert zones.count("Europe/London") == CHUNK and zones.count("Asia/Tokyo") == COUNT - CHUNK
    assert_answers_are_fresh(http, login, engine, account.id)
    assert rerender_account(engine, account_id=account.id, pause_ratio=0).rendered == CHUNK
    assert set(stored_zones(engine, account.id).values()) == {"Asia/Tokyo"}


def test_background_walk_runs_again_when_asked_while_running(
    desk: Desk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second change while an account's walk runs queues one more walk, not a second thread."""
    account = desk.account()
    release = threading.Event()
    walks: list[int] = []

    def walk(_engine: Engine, walked: object) -> None:
        walks.append(walked.id)
        release.wait(10)

    monkeypatch.setattr(rerender, "_walk_with_retries", walk)
    assert rerender._background.start(engine, account)
    assert not rerender._background.start(engine, account)
    assert not rerender._background.start(engine, account)
    assert not rerender.wait_for_background(timeout=0.05)
    release.set()
    assert rerender.wait_for_background(timeout=10)
    assert walks == [account.id, account.id]


def test_background_walk_tries_again_after_a_failure(
    desk: Desk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    take_varied(desk, account, 3)
    change_zone(engine, account.id, "Europe/Berlin")
    real = rerender.rerender_account
    attempts = 0

    def flaky(engine: Engine, **kwargs: object) -> rerender.Rerendered:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("database is locked")
        return real(engine, **kwargs)

    monkeypatch.setattr(rerender, "RETRY_PAUSES", (0.0,))
    monkeypatch.setattr(rerender, "rerender_account", flaky)
    rerender.rerender_in_background(engine, account)
    assert rerender.wait_for_background(timeout=30)
    assert attempts == 2
    assert set(stored_zones(engine, account.id).values()) == {"Europe/Berlin"}


def owed(engine: Engine) -> list[str]:
    """The numbers of the accounts a walk is recorded as owed to."""
    with write_transaction(engine) as connection:
        return [account.number for account in list_accounts(connection, owing_rerender=True)]


def test_a_zone_change_records_a_walk_owed_until_one_finishes(desk: Desk, engine: Engine) -> None:
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    other = desk.account(timezone="America/New_York")
    take_varied(desk, account, COUNT)
    change_zone(engine, other.id, "America/New_York")  # the same zone: nothing owed
    assert owed(engine) == []
    change_zone(engine, account.id, "Europe/London")
    assert owed(engine) == [account.number]
    stop = threading.Event()
    stopped = rerender_account(
        engine, account_id=account.id, chunk_size=CHUNK, pause_ratio=0, stop=stop,
        on_chunk=lambda _chunk: stop.set(),
    )  # fmt: skip
    assert not stopped.finished
    assert owed(engine) == [account.number]  # cut short: still owed
    assert rerender_account(engine, account_id=account.id, pause_ratio=0).finished
    assert owed(engine) == []


def test_a_change_during_a_walk_keeps_the_walk_owed(desk: Desk, engine: Engine) -> None:
    """A walk only settles the changes made before it began (another process may change the zone)."""
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    take_varied(desk, account, COUNT)
    change_zone(engine, account.id, "Europe/London")
    walk_changing_zone_after_first_chunk(engine, account.id, "Asia/Tokyo")
    assert owed(engine) == [account.number]
    assert rerender_account(engine, account_id=account.id, pause_ratio=0).rendered == CHUNK
    assert owed(engine) == []


def test_owed_walks_are_resumed_in_the_background(desk: Desk, engine: Engine) -> None:
    """What `answerdesk serve` does at start: a walk cut short by a restart is finished."""
    account = desk.account(timezone="America/New_York", fields=FIELDS)
    take_varied(desk, account, COUNT)
    change_zone(engine, account.id, "Australia/Adelaide")  # and the process stopped here
    assert [a.number for a in rerender.resume_owed_walks(engine)] == [account.number]
    assert rerender.wait_for_background(timeout=30)
    assert set(stored_zones(engine, account.id).values()) == {"Australia/Adelaide"}
    assert owed(engine) == []
    assert rerender.resume_owed_walks(engine) == []
