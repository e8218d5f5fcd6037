"""scripts/audit_dependencies.py: bandit finds nothing high, and unaudited packages never pass quietly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"

#: pip-audit's JSON for the three cases, as pip-audit 2.x writes them.
REPORT = {
    "dependencies": [
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []},
                {"id": "PYSEC-2024-0001", "fix_versions": ["3.1.4"], "aliases": []},
            ],
        },
        {
            "name": "alembic",
            "skip_reason": "Dependency not found on PyPI and could not be audited: alembic (1.20.1)",
        },
    ],
    "fixes": [],
}


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_audited_vulnerable_and_skipped_are_told_apart(audit: ModuleType) -> None:
    summary = audit.parse_pip_audit(REPORT)
    assert summary.audited == ["httpx", "jinja2"]
    assert summary.vulnerable == [("jinja2", "3.1.2", ["GHSA-h5c8-rqwp-cp95", "PYSEC-2024-0001"])]
    assert [name for name, _reason in summary.not_audited] == ["alembic"]
    assert summary.line() == (
        "pip-audit: 2 known vulnerabilities in 2 audited packages; 1 packages NOT AUDITED "
        "(vulnerability service unreachable or package unknown to PyPI)"
    )


def test_everything_skipped_is_never_reported_as_clean(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    offline = {"dependencies": [d for d in REPORT["dependencies"] if "skip_reason" in d]}
    monkeypatch.setattr(audit, "run_pip_audit", lambda: audit.parse_pip_audit(offline))
    monkeypatch.setattr(audit, "run_bandit", lambda: {"HIGH": [], "MEDIUM": [], "LOW": []})
    assert audit.main([]) == 0  # not failed: CI may be offline ...
    out = capsys.readouterr().out
    assert "0 audited packages; 1 packages NOT AUDITED" in out  # ... but never a pass
    assert "WARNING: 1 packages were NOT AUDITED; this is not a pass" in out
    assert "No known vulnerabilities" not in out
    assert audit.main(["--require-audit"]) == 2


def test_a_vulnerability_fails_the_audit(
    audit: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(audit, "run_pip_audit", lambda: audit.parse_pip_audit(REPORT))
    monkeypatch.setattr(audit, "run_bandit", lambda: {"HIGH": [], "MEDIUM": [], "LOW": []})
    assert audit.main([]) == 1
    assert (
        "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95, PYSEC-2024-0001" in capsys.readouterr().out
    )


def test_bandit_finds_no_high_severity_issue_in_src(audit: ModuleType) -> None:
    found = audit.run_bandit()
    high = [f"{i['test_id']} {i['filename']}:{i['line_number']}" for i in found["HIGH"]]
    assert high == []
    print(audit.bandit_line(found))
