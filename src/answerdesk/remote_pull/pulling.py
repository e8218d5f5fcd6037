"""Copy messages from a remote Messages API into a local account, resumably.

One pass has two parts. First every remote message after the checkpoint
(`MessagesClient.iter`, so keyset pages or date windows, whichever the
remote supports), each copied in its own transaction together with its map
row and the advanced checkpoint. Then the look-back window
(`list(from_date=today - look_back_days)`): copies whose remote original
moved on (delivered, read, archived) catch up, and any message there that
was never copied (say, stored remotely with a low id after the checkpoint
passed it) is copied now.

A crash or Ctrl-C at any moment loses at most the transaction in flight;
the next pass resumes from the checkpoint, and the map's UNIQUE constraint
makes a second copy of a message impossible, even with two pulls at once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from answerdesk import clock
from answerdesk.accounts import Account
from answerdesk.client import Message, MessagesClient
from answerdesk.errors import ValidationFailed
from answerdesk.messages import take_message_data
from answerdesk.remote_pull import checkpoints
from answerdesk.remote_pull.converting import local_fields, message_data
from answerdesk.remote_pull.status import catch_up
from answerdesk.store.engine import read_transaction, write_transaction


class Outcome(enum.Enum):
    """What happened to one remote message."""

    COPIED = "copied"
    SKIPPED = "skipped"  # refused here (say, a required local field); recorded, not retried
    KNOWN = "known"  # copied before
    UPDATED = "updated"  # its status or delivery caught up
    UNCHANGED = "unchanged"


@dataclass
class PullResult:
    """What one pass did, for the command's summary line."""

    copied: int = 0
    updated: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    fields_added: list[str] = field(default_factory=list)


class Pull:
    """One source and one local account: run passes with `steps()` or `run()`."""

    def __init__(
        self,
        engine: Engine,
        client: MessagesClient,
        *,
        account: Account,
        source_url: str,
        look_back_days: int = 2,
    ) -> None:
        self.engine = engine
        self.client = client
        self.account = account
        self.source = checkpoints.source_key(source_url)
        self.look_back_days = look_back_days
        self.result = PullResult()

    def steps(self) -> Iterator[Outcome]:
        """Run one pass, yielding after each remote message (for a progress bar)."""
        self.result = PullResult()
        with read_transaction(self.engine) as connection:
            after = checkpoints.last_remote_id(
                connection, source=self.source, account_id=self.account.id
            )
        for remote in self.client.iter(after_id=after):
            yield self._copy(remote)
        since = clock.utcnow().date() - timedelta(days=self.look_back_days)
        window = self.client.list(from_date=since)
        with read_transaction(self.engine) as connection:
            copies = checkpoints.local_ids(
                connection,
                source=self.source,
                account_id=self.account.id,
                remote_ids=[m.message_id for m in window],
            )
        for remote in window:
            if remote.message_id not in copies:
                # Not past the checkpoint: the next pass's `iter` still has to
                # see every id below this one.
                yield self._copy(remote, advance=False)
            elif (local_id := copies[remote.message_id]) is not None:
                yield self._catch_up(local_id, remote)
        with write_transaction(self.engine) as connection:
            checkpoints.advance(
                connection, source=self.source, account_id=self.account.id, pulled_at=clock.utcnow()
            )

    def run(self) -> PullResult:
        """Run one pass to the end and return what it did."""
        for _outcome in self.steps():
            pass
        return self.result

    def _copy(self, remote: Message, *, advance: bool = True) -> Outcome:
        try:
            with write_transaction(self.engine) as connection:
                outcome, added, error = self._copy_in(connection, remote)
                if advance:
                    checkpoints.advance(
                        connection,
                        source=self.source,
                        account_id=self.account.id,
                        remote_id=remote.message_id,
                    )
        except sa.exc.IntegrityError:
            # Another pull copied it between our check and our insert.
            return Outcome.KNOWN
        self.result.fields_added.extend(added)
        if outcome is Outcome.COPIED:
            self.result.copied += 1
        if error is not None:
            self.result.skipped.append((remote.message_id, error))
        return outcome

    def _copy_in(
        self, connection: sa.Connection, remote: Message
    ) -> tuple[Outcome, list[str], str | None]:
        source, account_id = self.source, self.account.id
        known = checkpoints.local_ids(
            connection, source=source, account_id=account_id, remote_ids=[remote.message_id]
        )
        if known:
            return Outcome.KNOWN, [], None
        fields, added = local_fields(connection, account_id=account_id, message=remote)
        local_id: int | None = None
        error: str | None = None
        try:
            local_id = take_message_data(
                connection,
                account=self.account,
                data=message_data(remote, fields),
                taken_by_user_id=None,
            )
        except ValidationFailed as failure:
            error = failure.message
        checkpoints.record(
            connection,
            source=source,
            account_id=account_id,
            remote_id=remote.message_id,
            local_id=local_id,
            error=error,
        )
        return (Outcome.COPIED if local_id is not None else Outcome.SKIPPED), added, error

    def _catch_up(self, local_id: int, remote: Message) -> Outcome:
        with write_transaction(self.engine) as connection:
            changed = catch_up(
                connection, account_id=self.account.id, message_id=local_id, remote=remote
            )
        if changed:
            self.result.updated += 1
            return Outcome.UPDATED
        return Outcome.UNCHANGED
