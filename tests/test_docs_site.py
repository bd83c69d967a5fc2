"""The documentation site shows the current model, as a person sees it, in both builders.

A default bake runs its pipeline (`make repro`) and builds its site with each
builder (`make docs`, `make docs DOCS_BUILDER=zensical`). Headless Chromium
opens the model card and the pipeline page over HTTP on 127.0.0.1, checks that
every image loaded and that the numbers on the page are those of
``reports/metrics.json`` and ``params.yaml``, and saves a screenshot of each
page under the test run's base temporary directory (``screenshots/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from browser import Browser, chromium_executable
from servers import LOOPBACK, StaticHTTPServer, free_port, wait_for_port

from helpers import Baked, bake

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_executable() is None, reason="needs Chromium (.ci/run installs it)"
    ),
]

BUILDERS = ("mkdocs", "zensical")
METRICS_HEADER = ["Metric", "Value", "Minimum", "Result"]
# What a person sees: every table as rows of cell texts, every image with its
# natural size (0 when it failed to load), and the visible text.
PAGE_CONTENT = """(() => ({
  tables: [...document.querySelectorAll("article table")].map(
    t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim()))),
  images: [...document.querySelectorAll("article img")].map(
    i => ({alt: i.alt, width: i.naturalWidth, height: i.naturalHeight})),
  text: document.querySelector("article").innerText,
}))()"""


# The first line of every code block that needs a horizontal scroll bar.
OVERFLOWING_CODE = """[...document.querySelectorAll("article pre > code")]
  .filter(code => code.scrollWidth > code.clientWidth)
  .map(code => code.textContent.split("\\n")[0])"""


# model.C of three commits of metrics, and the stage GTO gives each version.
HISTORY = (("0.05", "production"), ("0.3", ""), ("1.0", "staging"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, baked_venv: Path) -> Baked:
    """A default bake with three commits of metrics, each a registered version
    (v0.0.1 in production, v0.0.3 in staging), its pipeline run as after `make repro`."""
    project = bake(tmp_path_factory.mktemp("site"), venv=baked_venv)
    project.set_git_identity()
    params = project.read("params.yaml")
    for number, (C, stage) in enumerate(HISTORY, start=1):
        (project.path / "params.yaml").write_text(params.replace("C: 1.0", f"C: {C}"))
        project.make("repro")
        project.run("git", "add", "-A")
        project.run("git", "commit", "-q", "--no-verify", "-m", f"Train with C={C}")
        project.run("gto", "register", "model", "--version", f"v0.0.{number}")
        if stage:
            project.run("gto", "assign", "model", "--version", f"v0.0.{number}", "--stage", stage)
    return project


@dataclass
class Site:
    """A built site and the builder that built it."""

    builder: str
    path: Path

    def index(self) -> str:
        """The home page's HTML."""
        return (self.path / "index.html").read_text()


@pytest.fixture(scope="module", params=BUILDERS)
def site(
    request: pytest.FixtureRequest, trained: Baked, tmp_path_factory: pytest.TempPathFactory
) -> Site:
    """The site built by one builder, copied out of the project."""
    trained.make("docs", f"DOCS_BUILDER={request.param}")
    copy = tmp_path_factory.mktemp(f"site-{request.param}") / "site"
    shutil.copytree(trained.path / "site", copy)
    return Site(request.param, copy)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    assert executable, "the module is skipped without Chromium"
    with Browser(executable) as chromium:
        yield chromium


def view(browser: Browser, site: Site, page: str, shots: Path, script: str = PAGE_CONTENT):
    """Open ``page`` of ``site`` over HTTP, screenshot it, return what ``script`` finds."""
    with StaticHTTPServer(site.path) as server:
        browser.open(f"{server.url}/{page}/")
        content = browser.evaluate(script)
        shots.mkdir(exist_ok=True)
        browser.screenshot(shots / f"{site.builder}-{page}.png")
    return content


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "screenshots"


def test_model_card_shows_the_metrics_of_reports_metrics_json(
    trained: Baked, site: Site, browser: Browser, shots: Path
) -> None:
    page = view(browser, site, "model-card", shots)
    metrics = json.loads(trained.read("reports/metrics.json"))
    thresholds = yaml.safe_load(trained.read("params.yaml"))["thresholds"]
    table = next(t for t in page["tables"] if t and t[0] == METRICS_HEADER)
    shown = {row[0]: row[1:] for row in table[1:]}
    assert sorted(shown) == sorted(metrics)
    for name, (value, minimum, result) in shown.items():
        assert float(value) == metrics[name], name
        assert float(minimum) == thresholds[name], name
        assert result == "pass", name


def test_model_card_names_the_model_version_date_and_data(
    trained: Baked, site: Site, browser: Browser, shots: Path
) -> None:
    text = view(browser, site, "model-card", shots)["text"]
    model = (trained.path / "models" / "model.joblib").read_bytes()
    assert hashlib.sha256(model).hexdigest()[:12] in text
    training = json.loads(trained.read("reports/training.json"))
    assert training["trained_at"][:10] in text
    assert "sklearn:breast_cancer" in text
    for split, words in (("train", "training rows"), ("test", "test rows")):
        rows = len(trained.read(f"data/prepared/{split}.csv").splitlines()) - 1  # header
        assert f"{rows} {words}" in text, split


def test_model_card_images_load(site: Site, browser: Browser, shots: Path) -> None:
    images = view(browser, site, "model-card", shots)["images"]
    alts = " ".join(image["alt"] for image in images)
    assert "Confusion matrix" in alts and "ROC curve" in alts
    assert all(image["width"] > 0 and image["height"] > 0 for image in images), images


def test_pipeline_page_shows_the_dag(site: Site, browser: Browser, shots: Path) -> None:
    images = view(browser, site, "pipeline", shots)["images"]
    dags = [image for image in images if image["alt"].startswith("Pipeline")]
    assert len(dags) == 1, images
    assert dags[0]["width"] > 0 and dags[0]["height"] > 0
    assert all(stage in dags[0]["alt"] for stage in ("prepare", "train", "evaluate"))


def test_metrics_history_shows_every_version_and_its_stage(
    trained: Baked, site: Site, browser: Browser, shots: Path
) -> None:
    page = view(browser, site, "metrics-history", shots)
    table = next(
        t for t in page["tables"] if t and t[0][:4] == ["Commit", "Date", "Version", "Stage"]
    )
    rows = {row[2]: row for row in table[1:]}
    assert list(rows) == ["v0.0.3", "v0.0.2", "v0.0.1"]  # newest first
    stages = {version: row[3] for version, row in rows.items()}
    assert stages == {"v0.0.1": "production", "v0.0.2": "-", "v0.0.3": "staging"}
    names = table[0][4:]
    for version, row in rows.items():
        committed = json.loads(
            trained.run("git", "show", f"model@{version}:reports/metrics.json").stdout
        )
        assert {n: float(v) for n, v in zip(names, row[4:])} == {
            n: round(committed[n], 4) for n in names
        }, version
    (chart,) = [i for i in page["images"] if i["alt"].startswith("Test-set metrics")]
    assert chart["width"] > 0 and chart["height"] > 0
    assert "v0.0.1 → v0.0.2 → v0.0.3" in chart["alt"]


@pytest.mark.parametrize("page", ["onboarding", "serving", "pipeline", "model-registry"])
def test_code_blocks_fit_the_column(site: Site, browser: Browser, shots: Path, page: str) -> None:
    assert view(browser, site, page, shots, OVERFLOWING_CODE) == []


def test_site_was_built_by_the_chosen_builder(site: Site) -> None:
    generator = re.search(r'<meta name="generator" content="([a-z]+)', site.index())
    assert generator and generator.group(1) == site.builder


def test_api_reference_renders_in_each_builder(trained: Baked, site: Site) -> None:
    api = (site.path / "api" / "index.html").read_text()
    assert "load_params" in api and trained.package in api


def test_builds_leave_nothing_for_git(trained: Baked, site: Site) -> None:
    status = trained.run("git", "status", "--porcelain", "--untracked-files=all").stdout
    assert not [line for line in status.splitlines() if ".cache" in line or "site/" in line]


def test_docs_before_the_first_run_say_what_to_run(tmp_path: Path, baked_venv: Path) -> None:
    project = bake(tmp_path, venv=baked_venv)
    project.make("docs")
    card = (project.path / "site" / "model-card" / "index.html").read_text()
    assert "make repro" in card and "dvc pull" in card


@pytest.mark.parametrize("builder", BUILDERS)
def test_docs_serve_serves_the_live_site_on_loopback(
    trained: Baked, builder: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "docs-serve.log"
    command = ["make", "docs-serve", f"VENV={trained.venv}", f"DOCS_BUILDER={builder}"]
    command.append(f"DOCS_ADDRESS={LOOPBACK}:{port}")
    with log.open("w") as output:
        # Its own process group: make and the server it starts stop together.
        server = subprocess.Popen(
            command,
            cwd=trained.path,
            env=trained.env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, server, log, timeout=120)
        page = fetch(f"http://{LOOPBACK}:{port}/model-card/")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    accuracy = json.loads(trained.read("reports/metrics.json"))["accuracy"]
    assert f"{accuracy:.4f}" in page


def fetch(url: str, timeout: float = 60) -> str:
    """The body of ``url``, retried while the server is still building the site."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
