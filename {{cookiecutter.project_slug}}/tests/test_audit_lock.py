"""Tests for tools/audit_lock.py: when the vulnerability audit fails CI, and when
it only leaves a notice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

import audit_lock

# pip-audit's JSON report (pip_audit/_format/json.py): an audited package has
# "version" and "vulns", a skipped one a "skip_reason".
CLEAN = {"name": "numpy", "version": "2.3.5", "vulns": []}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.4",
    "vulns": [{"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"]}],
}
SKIPPED = {
    "name": "zc-lockfile",
    "skip_reason": "Dependency not found on PyPI and could not be audited: "
    "zc-lockfile (4.0)",
}
# The last lines pip-audit prints when the network refuses it (a proxy that
# cannot be reached, as behind a firewall): an exception of requests.
REFUSED = (
    "Traceback (most recent call last):\n"
    '  File ".../requests/adapters.py", line 723, in send\n'
    "requests.exceptions.ProxyError: HTTPSConnectionPool(host='pypi.org', "
    "port=443): Max retries exceeded with url: /pypi/numpy/2.3.5/json\n"
)


def report(*dependencies: Mapping[str, object]) -> str:
    """A pip-audit JSON report of ``dependencies``."""
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_no_known_vulnerability_passes_with_a_summary() -> None:
    verdict = audit_lock.decide(0, report(CLEAN, CLEAN), "")

    assert verdict.status == 0
    assert verdict.lines == [
        ("info", "2 locked packages audited, no known vulnerabilities")
    ]


def test_a_known_vulnerability_fails_naming_package_id_and_fix() -> None:
    verdict = audit_lock.decide(1, report(CLEAN, VULNERABLE), "")

    assert verdict.status == 1
    assert verdict.lines == [
        ("error", "jinja2 3.1.4: GHSA-q2x7-8rv6-6q7h (fixed in: 3.1.5)")
    ]


def test_packages_that_could_not_be_audited_leave_a_notice() -> None:
    verdict = audit_lock.decide(0, report(CLEAN, SKIPPED), "")

    assert verdict.status == 0
    (kind, message), summary = verdict.lines
    assert kind == "notice"
    assert message.startswith("1 of 2 locked packages could not be audited")
    assert "zc-lockfile (4.0)" in message
    assert summary == ("info", "1 locked packages audited, no known vulnerabilities")


def test_an_unreachable_database_is_a_notice_not_a_failure() -> None:
    verdict = audit_lock.decide(1, None, REFUSED)

    assert verdict.status == 0
    ((kind, message),) = verdict.lines
    assert kind == "notice"
    assert "could not be reached" in message and "ProxyError" in message


def test_any_other_failure_of_pip_audit_fails() -> None:
    verdict = audit_lock.decide(1, None, "ERROR:pip_audit._cli:invalid requirements")

    assert verdict.status == 1
    assert verdict.lines == [
        (
            "error",
            "pip-audit failed (exit 1): ERROR:pip_audit._cli:invalid requirements",
        )
    ]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("GITHUB_ACTIONS", "::notice title=pip-audit::offline"),
        ("TF_BUILD", "##vso[task.logissue type=warning]pip-audit: offline"),
        (None, "audit: notice: offline"),
    ],
)
def test_notices_are_written_for_the_ci_platform(
    monkeypatch: pytest.MonkeyPatch, platform: str | None, expected: str
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("TF_BUILD", raising=False)
    if platform:
        monkeypatch.setenv(platform, "true")

    assert audit_lock.annotate("notice", "offline") == expected


def test_without_a_lock_file_the_audit_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("TF_BUILD", raising=False)

    assert audit_lock.main() == 1

    assert capsys.readouterr().out == (
        "audit: error: uv.lock: not found; run make setup, which writes it\n"
    )
