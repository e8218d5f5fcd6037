"""Demo data, so a fresh install shows real-looking messages at once.

Two client accounts with their scripts, an admin, an agent, one client user
per account, and about 500 messages over the last 60 days. The data is
drawn from `random.Random(42)`, so every demo reads the same (only the dates
move with today). Seeding is idempotent: what already exists is left alone,
and every run issues fresh API tokens, because a token is shown only once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from answerdesk import clock
from answerdesk.accounts import Account, add_script_field, create_account, find_account
from answerdesk.messages import MessageInput, take_message
from answerdesk.tokens import create_token
from answerdesk.users import User, create_user, find_user

DEMO_PASSWORD = "answerdesk-demo"  # noqa: S105 (printed for everyone to use)
ADMIN_EMAIL = "admin@answerdesk.example"
AGENT_EMAIL = "agent@answerdesk.example"
SEED = 42
DAYS = 60


@dataclass(frozen=True)
class DemoAccount:
    """One demo client: the account, its script, its client user, its callers' needs."""

    number: str
    name: str
    timezone: str
    region: str
    phone: str
    script: tuple[tuple[str, bool], ...]
    client_email: str
    client_name: str
    messages: int
    #: Whom messages are for besides the client user (free text, no user).
    recipients: tuple[str, ...]
    reasons: tuple[str, ...]
    emergencies: tuple[str, ...]
    #: Fictional numbers (reserved for drama) that are valid in the region,
    #: as a caller would say them: a prefix and `phone_digits` more digits.
    phone_prefixes: tuple[str, ...]
    phone_digits: int


ACCOUNTS = (
    DemoAccount(
        number="10042",
        name="Acme Plumbing",
        timezone="America/New_York",
        region="US",
        phone="(617) 555-0100",
        script=(("Reason for Call?", True), ("Email", False), ("Best time to call", False)),
        client_email="office@acme-plumbing.example",
        client_name="Maria Lopez",
        messages=300,
        recipients=("Service Department", "Billing", "Dave (on call)"),
        reasons=(
            "Leaking pipe",
            "No hot water",
            "Clogged drain",
            "Quote request",
            "Water heater install",
            "Billing question",
            "Schedule service",
            "Running toilet",
        ),
        emergencies=("Burst pipe", "Sewage backup", "Flooded basement"),
        phone_prefixes=("(617) 555-01", "(508) 555-01", "(781) 555-01", "(978) 555-01"),
        phone_digits=2,
    ),
    DemoAccount(
        number="20077",
        name="Berkshire Dental",
        timezone="Europe/London",
        region="GB",
        phone="0118 496 0000",
        script=(
            ("Reason for Call?", True),
            ("Existing patient?", False),
            ("Date of birth", False),
            ("Email", False),
        ),
        client_email="reception@berkshire-dental.example",
        client_name="Priya Shah",
        messages=200,
        recipients=("Dr. Ahmed", "Dr. Clarke", "Practice Manager"),
        reasons=(
            "Book a check-up",
            "Reschedule appointment",
            "Cancel appointment",
            "Hygienist appointment",
            "Invoice query",
            "Broken crown",
        ),
        emergencies=("Severe toothache", "Knocked-out tooth", "Facial swelling"),
        phone_prefixes=("0118 496 0", "020 7946 0", "0121 496 0", "0117 496 0"),
        phone_digits=3,
    ),
)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah",
    "Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Noah", "Grace",
    "Aisha", "Mohammed", "Wei", "Sofia", "Lucas", "Chloe", "Arjun", "Hannah",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Taylor", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes",
    "O'Brien", "Murphy", "Nguyen", "Patel", "Kowalski", "Rossi", "Chen", "Okafor",
)  # fmt: skip
COMPANIES = (
    "Hudson Property Management",
    "Brightside Cafe",
    "Northgate Apartments",
    "Riverside School",
    "Maple Street Dental",
    "Kelly & Sons Builders",
)
WHEN = ("this morning", "this afternoon", "after 5pm", "as soon as possible", "tomorrow")
BEST_TIME = ("Morning", "Afternoon", "After 5pm", "Any time")


@dataclass(frozen=True)
class DemoLogin:
    """A demo user who can sign in with `DEMO_PASSWORD`."""

    email: str
    name: str
    role: str
    account_number: str | None
    account_name: str | None


@dataclass(frozen=True)
class DemoToken:
    """A fresh API token of a demo client user (shown once)."""

    email: str
    token: str


@dataclass(frozen=True)
class DemoResult:
    """What seeding did and what to tell the person who asked for it."""

    accounts_created: int
    users_created: int
    messages_created: int
    logins: list[DemoLogin]
    tokens: list[DemoToken]
    password: str = DEMO_PASSWORD

    @property
    def created(self) -> bool:
        return bool(self.accounts_created or self.users_created or self.messages_created)


def demo_exists(connection: sa.Connection) -> bool:
    """Tell whether every demo account is already there."""
    return all(find_account(connection, number=demo.number) for demo in ACCOUNTS)


def _ensure_user(
    connection: sa.Connection, *, email: str, name: str, role: str, account_id: int | None
) -> tuple[User, bool]:
    existing = find_user(connection, email=email)
    if existing is not None:
        return existing, False
    user = create_user(
        connection,
        email=email,
        name=name,
        role=role,
        account_id=account_id,
        password=DEMO_PASSWORD,
    )
    return user, True


def _message(
    rng: random.Random, demo: DemoAccount, created_at: datetime, now: datetime
) -> MessageInput:
    """Draw one plausible message taken at `created_at`."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    emergency = rng.random() < 0.08
    reason = rng.choice(demo.emergencies if emergency else demo.reasons)
    suffix = rng.randrange(10**demo.phone_digits)
    phone = f"{rng.choice(demo.phone_prefixes)}{suffix:0{demo.phone_digits}d}"
    caller_id = rng.choice((phone, phone, phone, None))
    fields: dict[str, str | None] = {"Reason for Call?": reason}
    if rng.random() < 0.4:
        fields["Email"] = f"{first}.{last}@example.com".lower().replace("'", "")
    if demo.region == "US" and rng.random() < 0.6:
        fields["Best time to call"] = rng.choice(BEST_TIME)
    if demo.region == "GB":
        fields["Existing patient?"] = rng.choice(("Yes", "Yes", "No"))
        if rng.random() < 0.5:
            birth = datetime(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
            fields["Date of birth"] = birth.strftime("%d/%m/%Y")
    urgency = "Says it is urgent. " if emergency else ""
    content = f"{urgency}{reason}. Please call back {rng.choice(WHEN)}."
    recipient = rng.choice((demo.client_name, demo.client_name, *demo.recipients))
    status, delivered_at, delivered_to = "new", None, None
    age = now - created_at
    if age > timedelta(days=2) or rng.random() < 0.3:
        status = rng.choices(("new", "delivered", "read", "archived"), (5, 25, 60, 10))[0]
    if status != "new":
        delivered_at = min(created_at + timedelta(minutes=rng.randint(2, 90)), now)
        delivered_to = rng.choice((demo.client_email, demo.phone))
    return MessageInput(
        content=content,
        first_name=first,
        last_name=last,
        company_name=rng.choice(COMPANIES) if rng.random() < 0.2 else None,
        phone=phone,
        caller_id=caller_id,
        for_=recipient,
        is_emergency=emergency,
        fields=fields,
        created_at=created_at,
        status=status,
        delivered_at=delivered_at,
        delivered_to=delivered_to,
    )


def _seed_messages(
    connection: sa.Connection, rng: random.Random, demo: DemoAccount, account: Account, agent: User
) -> int:
    now = clock.utcnow()
    span = DAYS * 24 * 3600
    # Taken in time order, so message ids grow with time as on a real desk.
    instants = sorted(
        now - timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))
        for _ in range(demo.messages)
    )
    for created_at in instants:
        take_message(
            connection,
            account=account,
            message=_message(rng, demo, created_at, now),
            taken_by_user_id=agent.id,
        )
    return len(instants)


def issue_demo_tokens(connection: sa.Connection) -> list[DemoToken]:
    """Give every demo client user a fresh API token."""
    issued = []
    for demo in ACCOUNTS:
        user = find_user(connection, email=demo.client_email)
        if user is not None:
            _info, token = create_token(connection, user_id=user.id)
            issued.append(DemoToken(email=user.email, token=token))
    return issued


def seed_demo(connection: sa.Connection, *, seed: int = SEED) -> DemoResult:
    """Create whatever part of the demo data is missing, then issue fresh tokens."""
    rng = random.Random(seed)
    counts = {"accounts": 0, "users": 0, "messages": 0}
    admin, made = _ensure_user(
        connection, email=ADMIN_EMAIL, name="Demo Admin", role="admin", account_id=None
    )
    counts["users"] += made
    agent, made = _ensure_user(
        connection, email=AGENT_EMAIL, name="Demo Agent", role="agent", account_id=None
    )
    counts["users"] += made
    logins = [
        DemoLogin(admin.email, admin.name, admin.role, None, None),
        DemoLogin(agent.email, agent.name, agent.role, None, None),
    ]
    for demo in ACCOUNTS:
        account = find_account(connection, number=demo.number)
        new_account = account is None
        if account is None:
            account = create_account(
                connection,
                number=demo.number,
                name=demo.name,
                timezone=demo.timezone,
                region=demo.region,
                phone=demo.phone,
            )
            for label, required in demo.script:
                add_script_field(connection, account_id=account.id, label=label, required=required)
            counts["accounts"] += 1
        client, made = _ensure_user(
            connection,
            email=demo.client_email,
            name=demo.client_name,
            role="client",
            account_id=account.id,
        )
        counts["users"] += made
        logins.append(DemoLogin(client.email, client.name, client.role, demo.number, demo.name))
        if new_account:
            counts["messages"] += _seed_messages(connection, rng, demo, account, agent)
    return DemoResult(
        accounts_created=counts["accounts"],
        users_created=counts["users"],
        messages_created=counts["messages"],
        logins=logins,
        tokens=issue_demo_tokens(connection),
    )
