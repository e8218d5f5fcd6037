"""Audit the dependencies (pip-audit) and the code (bandit); say plainly what was not audited.

    python scripts/audit_dependencies.py            # both
    python scripts/audit_dependencies.py --bandit-only
    python scripts/audit_dependencies.py --require-audit   # for a release machine online

Exit status: 1 when a known vulnerability or a high-severity bandit finding
is found; 2 with `--require-audit` when some package could not be audited;
0 otherwise. Why not fail when pip-audit cannot reach its vulnerability
service? Offline (or behind a proxy that blocks PyPI's JSON API) every
package is "not found on PyPI", and pip-audit then prints "No known
vulnerabilities found" for packages it never checked. We refuse to call that
a pass: the count of packages NOT AUDITED is printed on its own line, but a
CI without the network is not failed for it (docs/security.md, Dependencies).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class AuditSummary:
    """What pip-audit's JSON says, with unaudited packages counted apart."""

    audited: list[str] = field(default_factory=list)
    not_audited: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    vulnerable: list[tuple[str, str, list[str]]] = field(default_factory=list)  # name, version, ids

    def line(self) -> str:
        vulns = sum(len(ids) for _n, _v, ids in self.vulnerable)
        text = f"pip-audit: {vulns} known vulnerabilities in {len(self.audited)} audited packages"
        if self.not_audited:
            text += (
                f"; {len(self.not_audited)} packages NOT AUDITED "
                "(vulnerability service unreachable or package unknown to PyPI)"
            )
        return text


def parse_pip_audit(report: dict[str, Any]) -> AuditSummary:
    """Sort pip-audit's `dependencies` into audited, not audited and vulnerable."""
    summary = AuditSummary()
    for dependency in report.get("dependencies", []):
        name = str(dependency.get("name", "?"))
        if "skip_reason" in dependency or "version" not in dependency:
            summary.not_audited.append((name, str(dependency.get("skip_reason", "no version"))))
            continue
        summary.audited.append(name)
        ids = [str(vuln.get("id")) for vuln in dependency.get("vulns") or []]
        if ids:
            summary.vulnerable.append((name, str(dependency["version"]), ids))
    return summary


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test]'")
    return found


def run_pip_audit() -> AuditSummary:
    """Run `pip-audit --strict`; when it stops on an unauditable package, list them all.

    `--strict` gives up at the first package it cannot audit, so its answer
    alone cannot say how many were skipped: the report without `--strict`
    does, package by package.
    """
    base = [_tool("pip-audit"), "--format", "json", "--skip-editable", "--progress-spinner", "off"]
    strict = subprocess.run(  # noqa: S603 - our own tools, fixed arguments
        [*base, "--strict"], capture_output=True, text=True, check=False
    )
    if strict.returncode == 0 or "could not be audited" not in strict.stderr:
        try:
            return parse_pip_audit(json.loads(strict.stdout))
        except json.JSONDecodeError:
            raise SystemExit(f"pip-audit failed:\n{strict.stderr[-2000:]}") from None
    loose = subprocess.run(base, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        return parse_pip_audit(json.loads(loose.stdout))
    except json.JSONDecodeError:
        raise SystemExit(f"pip-audit failed:\n{loose.stderr[-2000:]}") from None


def run_bandit(target: Path = ROOT / "src") -> dict[str, list[dict[str, Any]]]:
    """Run bandit over the code; return its findings by severity (HIGH, MEDIUM, LOW)."""
    result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [_tool("bandit"), "-r", str(target), "-f", "json", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    if report.get("errors"):
        raise SystemExit(f"bandit could not scan: {report['errors']}")
    found: dict[str, list[dict[str, Any]]] = {"HIGH": [], "MEDIUM": [], "LOW": []}
    for issue in report.get("results", []):
        found.setdefault(issue["issue_severity"], []).append(issue)
    return found


def bandit_line(found: dict[str, list[dict[str, Any]]]) -> str:
    counts = ", ".join(f"{len(found.get(level, []))} {level.lower()}" for level in found)
    return f"bandit: {counts} severity findings in src"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bandit-only", action="store_true", help="skip pip-audit (offline)")
    parser.add_argument(
        "--require-audit", action="store_true", help="exit 2 if any package was not audited"
    )
    args = parser.parse_args(argv)
    status = 0
    found = run_bandit()
    print(bandit_line(found))
    for issue in found.get("HIGH", []):
        print(
            f"  HIGH {issue['test_id']} {issue['filename']}:{issue['line_number']}: "
            f"{issue['issue_text']}"
        )
        status = 1
    if not args.bandit_only:
        summary = run_pip_audit()
        print(summary.line())
        for name, version, ids in summary.vulnerable:
            print(f"  VULNERABLE {name} {version}: {', '.join(ids)}")
            status = 1
        if summary.not_audited:
            print(
                f"WARNING: {len(summary.not_audited)} packages were NOT AUDITED; this is not a "
                "pass. Run again where pypi.org's JSON API is reachable."
            )
            if args.require_audit and status == 0:
                status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
