"""Audit the locked dependencies for known vulnerabilities (CI's audit step).

    python tools/audit_lock.py

Exports ``uv.lock`` as pinned, hashed requirements (``uv export --frozen``,
every extra, without the project itself) and runs pip-audit on them. pip-audit
asks PyPI's vulnerability data for each pinned version
(``https://pypi.org/pypi/<name>/<version>/json``). The outcome:

* a known vulnerability: one error line per vulnerability (package, version,
  its id, the versions that fix it), exit 1;
* the vulnerability database cannot be reached (no network, a proxy, PyPI
  down): a notice, exit 0. The check did not run; the next run tries again;
* packages pip-audit could not audit (PyPI does not know that version): a
  notice that counts them and names the first, exit 0;
* otherwise one line: how many packages were audited.

Annotations are GitHub Actions notices and errors, Azure Pipelines warnings
and errors, plain lines elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# What pip-audit prints on stderr when it cannot reach the database: its own
# ConnectionError ("Could not connect to PyPI's vulnerability feed", "PyPI is
# not redirecting properly": pip_audit/_service/pypi.py), its ServiceError (an
# HTTP error other than 404), or the exception of requests that it lets through
# (a refused connection, a proxy, DNS, TLS, a timeout).
UNREACHABLE = re.compile(
    r"Could not connect to PyPI|PyPI is not redirecting properly|ServiceError"
    r"|requests\.exceptions\.(ConnectionError|ProxyError|ConnectTimeout|ReadTimeout"
    r"|SSLError|Timeout|RetryError)"
)


@dataclass
class Verdict:
    """What the audit says: its annotations in order, and the exit status."""

    status: int = 0
    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, message: str) -> None:
        """One annotation: ``notice``, ``error`` or ``info`` (a plain line)."""
        self.lines.append((kind, message))


def annotate(kind: str, message: str) -> str:
    """``message`` as the CI platform shows a notice or an error."""
    if kind == "info":
        return f"audit: {message}"
    if os.environ.get("GITHUB_ACTIONS"):
        return f"::{kind} title=pip-audit::{message}"
    if os.environ.get("TF_BUILD"):
        level = "error" if kind == "error" else "warning"
        return f"##vso[task.logissue type={level}]pip-audit: {message}"
    return f"audit: {kind}: {message}"


def decide(returncode: int, report: str | None, stderr: str) -> Verdict:
    """The verdict from pip-audit's exit status, its JSON report and its stderr."""
    verdict = Verdict()
    if report is None:
        lines = stderr.strip().splitlines()
        last = lines[-1][:300] if lines else "no output"
        if UNREACHABLE.search(stderr):
            verdict.add(
                "notice",
                "the vulnerability database could not be reached; the locked "
                f"dependencies were not audited ({last})",
            )
        else:
            verdict.status = 1
            verdict.add("error", f"pip-audit failed (exit {returncode}): {last}")
        return verdict
    dependencies = json.loads(report)["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    for dependency in audited:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln["fix_versions"]) or "none yet"
            verdict.status = 1
            verdict.add(
                "error",
                f"{dependency['name']} {dependency['version']}: {vuln['id']}"
                f" (fixed in: {fixes})",
            )
    if skipped:
        verdict.add(
            "notice",
            f"{len(skipped)} of {len(dependencies)} locked packages could not be "
            f"audited, such as {skipped[0]['skip_reason']}",
        )
    if verdict.status == 0:
        verdict.add(
            "info",
            f"{len(audited)} locked packages audited, no known vulnerabilities",
        )
    return verdict


def uv() -> str:
    """The virtualenv's uv (the dev extra locks it), else the one on PATH."""
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.exists() else "uv"


def export_lock(folder: Path) -> Path:
    """uv.lock as a requirements file with hashes, in ``folder``."""
    requirements = folder / "requirements.txt"
    subprocess.run(
        [
            uv(),
            "export",
            "--frozen",
            "--all-extras",
            "--no-emit-project",
            "--format",
            "requirements-txt",
            "--output-file",
            str(requirements),
            "--quiet",
        ],
        check=True,
    )
    return requirements


def run_pip_audit(requirements: Path, report: Path) -> subprocess.CompletedProcess[str]:
    """pip-audit on pinned, hashed requirements, without pip, its report in JSON."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            "--disable-pip",
            "--require-hashes",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    """Export, audit, print the verdict; its exit status."""
    if not Path("uv.lock").is_file():
        print(annotate("error", "uv.lock: not found; run make setup, which writes it"))
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        report = folder / "report.json"
        done = run_pip_audit(export_lock(folder), report)
        text = report.read_text() if report.exists() else None
    verdict = decide(done.returncode, text, done.stderr)
    for kind, message in verdict.lines:
        print(annotate(kind, message))
    return verdict.status


if __name__ == "__main__":
    sys.exit(main())
