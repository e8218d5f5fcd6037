"""Every setting answerdesk reads is documented in docs/settings.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from answerdesk.config import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_is_documented() -> None:
    source = (ROOT / "src/answerdesk/config.py").read_text()
    read = set(re.findall(r'"(ANSWERDESK_[A-Z_]+)"', source))
    documented = set(re.findall(r"`(ANSWERDESK_[A-Z_]+)`", (ROOT / "docs/settings.md").read_text()))
    assert read and read <= documented, sorted(read - documented)


def test_production_refuses_the_development_secret_key() -> None:
    with pytest.raises(SettingsError, match="ANSWERDESK_SECRET_KEY"):
        Settings.from_env({"ANSWERDESK_ENVIRONMENT": "production"})
    with pytest.raises(SettingsError, match="ANSWERDESK_SECRET_KEY"):
        Settings.from_env(
            {"ANSWERDESK_ENVIRONMENT": "production", "ANSWERDESK_SECRET_KEY": "short"}
        )
    try:
        settings = Settings.from_env(
            {"ANSWERDESK_ENVIRONMENT": "production", "ANSWERDESK_SECRET_KEY": "k" * 40}
        )
    except SettingsError as error:  # another production-only setting is missing: fine here
        assert "ANSWERDESK_SECRET_KEY" not in str(error)
    else:
        assert "k" * 40 not in repr(settings)
    with pytest.raises(SettingsError, match="ANSWERDESK_ENVIRONMENT"):
        Settings.from_env({"ANSWERDESK_ENVIRONMENT": "staging"})
