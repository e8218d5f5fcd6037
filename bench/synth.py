"""Synthetic messages with realistic sizes, deterministic for a given seed.

Names, companies, E.164 numbers, 1-8 filled custom fields out of an 8-field
script, 50-600 character contents, spread over three years. The rows are the
stored columns of the `messages` table (not API input), so a million of them
can be bulk-loaded in seconds instead of taken one by one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from answerdesk.labels import label_names

_FIRST_TEXT = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth "
    "William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen "
    "Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra "
    "Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle "
    "Kenneth Carol Kevin Amanda Brian Dorothy George Melissa José Zoë François "
    "Renée"
)
FIRST = _FIRST_TEXT.split(" ")
_LAST_TEXT = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
    "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin "
    "Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker "
    "Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson "
    "Baker Hall Rivera Campbell Mitchell O'Brien Müller"
)
LAST = _LAST_TEXT.split(" ")
COMPANIES = (
    "Acme Plumbing",
    "Doe Corp",
    "Northside Dental",
    "Blue Ridge Roofing",
    "Harbor Legal LLP",
    "Summit Property Management",
    "Green Valley Vet Clinic",
    "Metro HVAC & Sons",
    "Lakeside Pediatrics",
    "Keystone Insurance",
)
_WORDS_TEXT = (
    "please call back about the leak under the sink water heater appointment "
    "tomorrow morning afternoon urgent invoice question estimate roof repair "
    "tenant unit key lost locked out prescription refill billing address changed "
    "wants to reschedule confirm the visit before noon after five pm caller says "
    "it is not an emergency but would like an answer today thanks — “quoted” text "
    "with a tab\tand ünïcode"
)
WORDS = _WORDS_TEXT.split(" ")
SCRIPT = (
    "Reason for Call?",
    "Best time to call",
    "E-mail",
    "Address",
    "Account #",
    "Callback number",
    "Urgency",
    "Notes",
)
RESOURCES = ("Carla Client", "Front Desk", "Dr. Patel", "Billing", "On-call technician")
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400

#: Stored columns of `messages` the generator fills, in this order.
COLUMNS = (
    "account_id",
    "resource",
    "first_name",
    "last_name",
    "company_name",
    "phone",
    "caller_id",
    "content",
    "is_emergency",
    "fields",
    "created_at",
    "created_second",
    "status",
    "delivered_at",
    "delivered_to",
    "updated_at",
)


@dataclass(frozen=True)
class Message:
    """One stored message, as the columns of COLUMNS."""

    values: tuple[object, ...]

    @property
    def created_at(self) -> datetime:
        value = self.values[COLUMNS.index("created_at")]
        assert isinstance(value, datetime)
        return value


def _phone(rng: random.Random) -> str:
    return f"+1{rng.choice((617, 212, 415, 312, 503))}555{rng.randrange(10_000):04d}"


def _content(rng: random.Random) -> str:
    target = rng.randint(50, 600)
    words: list[str] = []
    length = -1
    while length < target:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:target].strip().capitalize() or "Call back"


def _fields(rng: random.Random, names: list[str]) -> str:
    filled = sorted(rng.sample(range(len(SCRIPT)), rng.randint(1, len(SCRIPT))))
    values = {
        0: lambda: rng.choice(("Repair", "New appointment", "Billing", "Other")),
        1: lambda: rng.choice(("after 5pm", "mornings", "any time")),
        2: lambda: f"{rng.choice(FIRST).lower()}@example.com",
        3: lambda: f"{rng.randint(1, 999)} Main St, Springfield",
        4: lambda: str(rng.randint(10_000, 99_999)),
        5: lambda: _phone(rng),
        6: lambda: rng.choice(("low", "normal", "high")),
        7: lambda: _content(rng)[:120],
    }
    return orjson.dumps([[names[i], SCRIPT[i], values[i]()] for i in filled]).decode()


def messages_for(account_id: int, count: int, *, seed: int) -> Iterator[Message]:
    """Yield `count` messages of one account (without ids), oldest first."""
    rng = random.Random(seed)
    names = label_names(SCRIPT)
    seconds = sorted(rng.randrange(SPAN_SECONDS) for _ in range(count))
    for second in seconds:
        created = START + timedelta(seconds=second, microseconds=rng.randrange(1_000_000))
        delivered = rng.random() < 0.8
        has_name = rng.random() < 0.9
        company = rng.choice(COMPANIES) if rng.random() < 0.4 else None
        yield Message(
            (
                account_id,
                rng.choice(RESOURCES),
                rng.choice(FIRST) if has_name else None,
                rng.choice(LAST) if has_name else None,
                company,
                _phone(rng) if rng.random() < 0.95 else "ext. 12",
                _phone(rng) if rng.random() < 0.7 else None,
                _content(rng),
                rng.random() < 0.05,
                _fields(rng, names),
                created,
                int(created.timestamp()),
                "delivered" if delivered else "new",
                created + timedelta(minutes=rng.randint(1, 30)) if delivered else None,
                f"{rng.choice(FIRST).lower()}@client.example" if delivered else None,
                created,
            )
        )
