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
from support.browser import chromium_executable, chromium_page
from playwright.sync_api import Page
from support.servers import LOOPBACK, StaticHTTPServer, free_port, wait_for_port

from support.helpers import Baked, bake

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
  images: [...document.querySelectorAll("article img")].map(i => ({
    alt: i.alt, width: i.naturalWidth, height: i.naturalHeight,
    shownWidth: i.width, shownHeight: i.height})),
  links: [...document.querySelectorAll("article a")].map(a => a.getAttribute("href")),
  items: [...document.querySelectorAll("article li")].map(li => li.innerText),
  text: document.querySelector("article").innerText,
}))()"""


# The first line of every code block that needs a horizontal scroll bar.
OVERFLOWING_CODE = """[...document.querySelectorAll("article pre > code")]
  .filter(code => code.scrollWidth > code.clientWidth)
  .map(code => code.textContent.split("\\n")[0])"""


# Where on the page (pixels from its top) each of WORDS first appears.
WHERE_WORDS_ARE = """((words) => {
  const walker = document.createTreeWalker(document.querySelector("article"), NodeFilter.SHOW_TEXT);
  const tops = {};
  while (walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const word of words)
      if (!(word in tops) && walker.currentNode.textContent.includes(word))
        tops[word] = range.getBoundingClientRect().top + window.scrollY;
  }
  return tops;
})(WORDS)"""

# The remotes page's folded sections (<details>) and its third-level headings.
REMOTE_SECTIONS = """(() => ({
  folded: [...document.querySelectorAll("article details")].map(
    d => ({title: d.querySelector("summary").textContent.trim(), open: d.open})),
  headings: [...document.querySelectorAll("article h2, article h3")].map(
    h => h.textContent.replace("\u00b6", "").trim()),
}))()"""

# Runs in a baked project: records every matplotlib figure that is saved while
# CALL runs, then prints what a reader of the picture sees, as JSON: each
# figure's axes (limits, tick labels, axis labels, legend texts, the data
# points and the legend's box in pixels) and its texts' font sizes in points.
FIGURES_SCRIPT = """
import json
import sys

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

drawn = []
save = Figure.savefig


def record(figure, *args, **kwargs):
    drawn.append(figure)
    return save(figure, *args, **kwargs)


Figure.savefig = record
CALL
figures = []
for figure in drawn:
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    axes = figure.axes[0]
    legends = [*figure.legends, *[a.get_legend() for a in figure.axes if a.get_legend()]]
    lines = [line for line in axes.get_lines() if not line.get_label().startswith("_")]
    figures.append({
        "ylim": list(axes.get_ylim()),
        "xticks": [t.get_text() for t in axes.get_xticklabels()],
        "yticks": [t.get_text() for t in axes.get_yticklabels()],
        "labels": [axes.get_xlabel(), axes.get_ylabel()],
        "lines": {line.get_label(): [float(y) for y in line.get_ydata()] for line in lines},
        "points": [
            list(axes.transData.transform(xy)) for line in lines for xy in line.get_xydata()
        ],
        "axes_box": list(axes.get_window_extent(renderer).extents),
        "legends": [[t.get_text() for t in legend.get_texts()] for legend in legends],
        "legend_boxes": [list(legend.get_window_extent(renderer).extents) for legend in legends],
        "font_sizes": [t.get_fontsize() for t in axes.texts],
    })
print(json.dumps(figures))
"""


def figures_drawn_by(project: Baked, call: str, *args: str) -> list[dict]:
    """What FIGURES_SCRIPT sees of the figures that ``call`` saves, run in ``project``."""
    script = FIGURES_SCRIPT.replace("CALL", call)
    return json.loads(project.run("python", "-c", script, *args).stdout.splitlines()[-1])


def overlaps(box: list[float], other: list[float]) -> bool:
    """Whether two (x0, y0, x1, y1) boxes share any area."""
    return box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]


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
def browser() -> Iterator[Page]:
    with chromium_page() as tab:
        yield tab


def view(browser: Page, site: Site, page: str, shots: Path, script: str = PAGE_CONTENT):
    """Open ``page`` of ``site`` over HTTP, screenshot it, return what ``script`` finds.

    ``page`` is the page's folder; "" is the home page. The page is loaded when
    its load event fired (images included).
    """
    with StaticHTTPServer(site.path) as server:
        browser.goto(f"{server.url}/{page}/" if page else f"{server.url}/", wait_until="load")
        content = browser.evaluate(script)
        shots.mkdir(exist_ok=True)
        name = page.replace("/", "-") or "home"
        browser.screenshot(path=shots / f"{site.builder}-{name}.png", full_page=True)
    return content


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "screenshots"


def test_model_card_shows_the_metrics_of_reports_metrics_json(
    trained: Baked, site: Site, browser: Page, shots: Path
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
    trained: Baked, site: Site, browser: Page, shots: Path
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


def test_model_card_images_load(site: Site, browser: Page, shots: Path) -> None:
    images = view(browser, site, "model-card", shots)["images"]
    alts = " ".join(image["alt"] for image in images)
    assert "Confusion matrix" in alts and "ROC curve" in alts
    assert all(image["width"] > 0 and image["height"] > 0 for image in images), images


def test_pipeline_page_shows_the_dag(site: Site, browser: Page, shots: Path) -> None:
    images = view(browser, site, "pipeline", shots)["images"]
    dags = [image for image in images if image["alt"].startswith("Pipeline")]
    assert len(dags) == 1, images
    assert dags[0]["width"] > 0 and dags[0]["height"] > 0
    assert all(stage in dags[0]["alt"] for stage in ("prepare", "train", "evaluate"))


def test_metrics_history_shows_every_version_and_its_stage(
    trained: Baked, site: Site, browser: Page, shots: Path
) -> None:
    page = view(browser, site, "metrics-history", shots)
    table = history_table(page)
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


def history_table(page: dict) -> list[list[str]]:
    """The metrics-history table of a page's content."""
    return next(t for t in page["tables"] if t and t[0][:2] == ["Commit", "Committed (UTC)"])


def test_metrics_history_says_what_changed_and_when(
    trained: Baked, site: Site, browser: Page, shots: Path
) -> None:
    page = view(browser, site, "metrics-history", shots)
    table = history_table(page)
    rows = {row[2]: dict(zip(table[0], row)) for row in table[1:]}
    changes = {}
    for version, (C, _) in zip(("v0.0.1", "v0.0.2", "v0.0.3"), HISTORY):
        commit = trained.run("git", "rev-parse", f"model@{version}^{{commit}}").stdout.strip()
        committed = trained.run(
            "git",
            "show",
            "-s",
            "--format=%cd",
            "--date=format-local:%Y-%m-%d %H:%M",
            commit,
            extra_env={"TZ": "UTC"},
        ).stdout.strip()
        assert rows[version]["Committed (UTC)"] == committed, version
        (changes[version],) = [item for item in page["items"] if item.startswith(version)]
        assert f"Train with C={C}" in changes[version], version
        assert commit[:7] in changes[version] and "logistic_regression" in changes[version]
    assert "first model" in changes["v0.0.1"]
    assert "model.logistic_regression.C: 0.05 → 0.3" in changes["v0.0.2"]
    assert "model.logistic_regression.C: 0.3 → 1.0" in changes["v0.0.3"]


def test_metrics_chart_keeps_drops_in_proportion_and_its_legend_off_the_points(
    trained: Baked,
) -> None:
    call = 'import runpy; runpy.run_path("docs/metrics_history.py")["metrics_history"]()'
    (chart,) = figures_drawn_by(trained, call)
    low, high = chart["ylim"]
    for name, values in chart["lines"].items():
        steps = [abs(after - before) for before, after in zip(values, values[1:])]
        # accuracy moves by 0.0089 in this history: a small share of the axis.
        assert max(steps) / (high - low) <= 0.25, (name, values, chart["ylim"])
    assert chart["legend_boxes"], "the chart has a legend"
    for box in chart["legend_boxes"]:
        assert not overlaps(box, chart["axes_box"]), (box, chart["axes_box"])


def test_model_card_names_the_classes_and_gives_auc_as_its_table_does(
    trained: Baked, site: Site, browser: Page, shots: Path, tmp_path: Path
) -> None:
    # Run evaluate again, its outputs in tmp_path, to see what its plots show.
    call = f"""
from pathlib import Path
import yaml
from {trained.package}.config import load_params
from {trained.package}.pipeline.evaluate import evaluate
params = yaml.safe_load(Path("params.yaml").read_text())
out = Path(sys.argv[1])
for key in ("metrics", "confusion_matrix", "roc", "confusion_matrix_image", "roc_image"):
    params["paths"][key] = str(out / Path(params["paths"][key]).name)
(out / "params.yaml").write_text(yaml.safe_dump(params))
evaluate(load_params(out / "params.yaml"))
"""
    confusion, roc = figures_drawn_by(trained, call, str(tmp_path))
    classes = ["malignant", "benign"]  # scikit-learn's target_names of breast_cancer, 0 then 1
    assert confusion["xticks"] == classes and confusion["yticks"] == classes
    roc_auc = json.loads(trained.read("reports/metrics.json"))["roc_auc"]
    assert any(f"AUC = {roc_auc:.4f}" in text for text in roc["legends"][0]), roc["legends"]
    assert all("benign" in label for label in roc["labels"]), roc["labels"]
    page = view(browser, site, "model-card", shots)
    alts = [image["alt"] for image in page["images"]]
    assert any("malignant" in alt and "benign" in alt for alt in alts), alts


def test_pipeline_dag_reads_without_zooming(
    trained: Baked, site: Site, browser: Page, shots: Path
) -> None:
    images = view(browser, site, "pipeline", shots)["images"]
    (dag,) = [image for image in images if image["alt"].startswith("Pipeline")]
    # Shown at (nearly) its own size, not shrunk into a strip.
    assert dag["shownWidth"] >= 0.9 * dag["width"], dag
    assert dag["shownHeight"] >= 200, dag
    call = 'import runpy; runpy.run_path("docs/pipeline_dag.py")["pipeline_dag"]()'
    (picture,) = figures_drawn_by(trained, call)
    assert picture["font_sizes"] and min(picture["font_sizes"]) >= 13, picture["font_sizes"]


def test_home_page_leads_with_the_current_model(
    trained: Baked, site: Site, browser: Page, shots: Path
) -> None:
    page = view(browser, site, "", shots)
    metrics = json.loads(trained.read("reports/metrics.json"))
    scores = [f"{value:.4f}" for value in metrics.values()]
    for word in (*scores, "v0.0.3", "staging"):
        assert word in page["text"], word
    assert any(link and link.startswith("model-card") for link in page["links"]), page["links"]
    assert any(link and link.startswith("onboarding") for link in page["links"]), page["links"]
    words = json.dumps(["v0.0.3", scores[0]])
    tops = view(browser, site, "", shots, WHERE_WORDS_ARE.replace("WORDS", words))
    assert all(top < 500 for top in tops.values()), tops  # in the first screen, near the top


def test_remotes_page_of_a_local_project_leads_with_its_own_remote(
    site: Site, browser: Page, shots: Path
) -> None:
    page = view(browser, site, "remotes", shots, REMOTE_SECTIONS)
    headings = page["headings"]
    own = headings.index("Authenticate on your machine") + 1
    assert headings[own] == "A local directory", headings
    folded = {section["title"]: section["open"] for section in page["folded"]}
    others = ("Amazon S3", "Google Cloud Storage", "Azure Blob Storage", "SSH", "HTTP(S)")
    assert all(folded.get(title) is False for title in others), folded
    assert "A local directory" not in folded and "Amazon S3" not in headings


@pytest.mark.parametrize("remote, own", [("ssh", "SSH"), ("s3", "Amazon S3"), ("none", None)])
def test_remotes_page_leads_with_the_remote_of_each_type(
    tmp_path: Path, remote: str, own: str | None
) -> None:
    text = bake(tmp_path, dvc_remote=remote).read("docs/remotes.md")
    section = text.split("## Authenticate on your machine", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^### (.+)$", section, re.MULTILINE)
    folded = re.findall(r'^\?\?\? note "(.+)"$', section, re.MULTILINE)
    if own is None:  # no remote yet: every type open, to choose from
        assert len(headings) >= 6 and folded == [], (headings, folded)
    else:
        assert headings[0] == own and own not in folded, (headings, folded)
        assert len(headings) + len(folded) >= 6, (headings, folded)


def pages(site: Site) -> list[str]:
    """Every page of the built site, by its folder ("" is the home page)."""
    found = [
        path.parent.relative_to(site.path).as_posix() for path in site.path.rglob("index.html")
    ]
    return sorted("" if page == "." else page for page in found)


def test_code_blocks_fit_the_column(site: Site, browser: Page, shots: Path) -> None:
    overflowing = {page: view(browser, site, page, shots, OVERFLOWING_CODE) for page in pages(site)}
    assert len(overflowing) >= 10, overflowing  # the home page and every page of the nav
    assert {page: lines for page, lines in overflowing.items() if lines} == {}


# The first-column code (file names) of the CI/CD page's tables that wraps onto
# more than one line.
WRAPPED_FILE_NAMES = """[...document.querySelectorAll("article td:first-child code")]
  .filter(code => code.getClientRects().length > 1)
  .map(code => code.textContent)"""


def test_ci_cd_tables_keep_file_names_on_one_line(site: Site, browser: Page, shots: Path) -> None:
    page = view(browser, site, "ci-cd", shots)
    assert "monitoring.yml" in page["text"]
    assert view(browser, site, "ci-cd", shots, WRAPPED_FILE_NAMES) == []


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
