"""Read ``params.yaml`` into typed, read-only settings.

Every setting of the pipeline lives in ``params.yaml``; DVC reads the same file
to decide which stages to re-run. ``load_params`` checks every value and raises
``ConfigError`` with a message that names the file, the field, the rule and
the value, for example:

    params.yaml: data.test_size: must be between 0 and 1 (got 1.5)

Relative paths in ``paths`` are relative to the directory you run the commands
from, which is the project root (where DVC runs them too).

To add a setting: add the key to ``params.yaml``, a field to the matching
dataclass below, and one line that reads it in the matching ``_read_*``
function. Keys that no dataclass knows about are ignored, so other tools can
keep their own sections in ``params.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PARAMS_FILE = "params.yaml"
# Fewer solver iterations stop logistic regression before it fits anything.
MIN_MAX_ITER = 10
{% if cookiecutter.serving %}
# A request body limit below this would refuse even one instance.
MIN_BODY_BYTES = 4096
{% endif %}


class ConfigError(ValueError):
    """``params.yaml`` is missing, is not valid YAML, or holds an invalid value."""


@dataclass(frozen=True)
class DataParams:
    """Where the raw data comes from and how it is split."""

    source: str
    target: str
    test_size: float


@dataclass(frozen=True)
class ModelParams:
    """Hyperparameters of the logistic regression."""

    C: float
    max_iter: int


@dataclass(frozen=True)
class Thresholds:
    """The minimum value of each test-set metric; the quality gate checks them."""

    accuracy: float
    f1: float
    roc_auc: float


@dataclass(frozen=True)
class Tolerances:
    """How far below the champion's score each metric of a new model may fall."""

    accuracy: float
    f1: float
    roc_auc: float


@dataclass(frozen=True)
class Paths:
    """Files that the pipeline stages read and write."""

    raw: Path
    train: Path
    test: Path
    model: Path
    training: Path
    metrics: Path
    confusion_matrix: Path
    roc: Path
    confusion_matrix_image: Path
    roc_image: Path


@dataclass(frozen=True)
class BatchParams:
    """Settings of batch scoring (``batch.py``)."""

    input: str
    output: Path
    chunk_size: int


@dataclass(frozen=True)
class DriftParams:
    """Settings of the drift check (``drift.py``): when a feature has drifted."""

    p_value: float
    min_statistic: float
    max_missing: float
    max_out_of_range: float
    report: Path
{% if cookiecutter.serving %}


@dataclass(frozen=True)
class ServeParams:
    """Settings of the model server (``serve.py``)."""

    max_batch_size: int
    max_body_bytes: int
{% endif %}


@dataclass(frozen=True)
class Params:
    """All settings from ``params.yaml``."""

    seed: int
    data: DataParams
    model: ModelParams
    thresholds: Thresholds
    tolerances: Tolerances
    paths: Paths
    batch: BatchParams
    drift: DriftParams
{% if cookiecutter.serving %}
    serve: ServeParams
{% endif %}


def field_names(settings: type) -> list[str]:
    """The field names of a settings dataclass, in their order."""
    return [item.name for item in fields(settings)]


class _Section:
    """One mapping from ``params.yaml`` that knows its name, for error messages."""

    def __init__(self, values: Mapping[str, Any], prefix: str, source: str) -> None:
        self.values = values
        self.prefix = prefix
        self.source = source

    def error(self, key: str, rule: str, value: Any) -> ConfigError:
        """Build the error for ``key``: ``<file>: <field>: <rule> (got <value>)``."""
        return ConfigError(f"{self.source}: {self.field(key)}: {rule} (got {value!r})")

    def field(self, key: str) -> str:
        """The dotted name of ``key``, such as ``data.test_size``."""
        return f"{self.prefix}{key}"

    def get(self, key: str) -> Any:
        """The raw value of ``key``; a missing key is an error."""
        if key not in self.values:
            raise ConfigError(
                f"{self.source}: {self.field(key)}: is required but missing"
            )
        return self.values[key]

    def section(self, key: str) -> _Section:
        """The nested mapping under ``key``."""
        value = self.get(key)
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a mapping of settings", value)
        return _Section(value, f"{self.field(key)}.", self.source)

    def string(self, key: str) -> str:
        """A non-empty string."""
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string", value)
        return value

    def path(self, key: str) -> Path:
        """A file path, given as a non-empty string."""
        return Path(self.string(key))

    def number(self, key: str) -> float:
        """A finite integer or decimal (``true``, ``.inf`` and ``.nan`` are refused)."""
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, "must be a number", value)
        if not math.isfinite(value):
            raise self.error(key, "must be a finite number", value)
        return float(value)

    def share(self, key: str) -> float:
        """A number between 0 and 1 (a score, a margin, a proportion)."""
        value = self.number(key)
        if not 0 <= value <= 1:
            raise self.error(key, "must be between 0 and 1", value)
        return value

    def shares(self, names: Iterable[str]) -> dict[str, float]:
        """Each of ``names`` as a share: the fields of a section of metrics."""
        return {name: self.share(name) for name in names}

    def integer(self, key: str) -> int:
        """A whole number (``true``/``false`` and decimals are refused)."""
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, "must be a whole number", value)
        return value


def _read_data(section: _Section) -> DataParams:
    """The ``data`` section."""
    test_size = section.number("test_size")
    if not 0 < test_size < 1:
        raise section.error("test_size", "must be between 0 and 1", test_size)
    return DataParams(
        source=section.string("source"),
        target=section.string("target"),
        test_size=test_size,
    )


def _read_model(section: _Section) -> ModelParams:
    """The ``model`` section."""
    c_value = section.number("C")
    if c_value <= 0:
        raise section.error("C", "must be greater than 0", c_value)
    max_iter = section.integer("max_iter")
    if max_iter < MIN_MAX_ITER:
        raise section.error("max_iter", f"must be at least {MIN_MAX_ITER}", max_iter)
    return ModelParams(C=c_value, max_iter=max_iter)


def _read_thresholds(section: _Section) -> Thresholds:
    """The ``thresholds`` section: every minimum is between 0 and 1."""
    return Thresholds(**section.shares(field_names(Thresholds)))


def _read_tolerances(section: _Section) -> Tolerances:
    """The ``tolerances`` section: every margin is between 0 and 1."""
    return Tolerances(**section.shares(field_names(Tolerances)))


def _read_paths(section: _Section) -> Paths:
    """The ``paths`` section."""
    return Paths(
        raw=section.path("raw"),
        train=section.path("train"),
        test=section.path("test"),
        model=section.path("model"),
        training=section.path("training"),
        metrics=section.path("metrics"),
        confusion_matrix=section.path("confusion_matrix"),
        roc=section.path("roc"),
        confusion_matrix_image=section.path("confusion_matrix_image"),
        roc_image=section.path("roc_image"),
    )


def _read_batch(section: _Section) -> BatchParams:
    """The ``batch`` section."""
    chunk_size = section.integer("chunk_size")
    if chunk_size < 1:
        raise section.error("chunk_size", "must be at least 1", chunk_size)
    return BatchParams(
        input=section.string("input"),
        output=section.path("output"),
        chunk_size=chunk_size,
    )


def _read_drift(section: _Section) -> DriftParams:
    """The ``drift`` section: every limit is a share, between 0 and 1."""
    limits = ("p_value", "min_statistic", "max_missing", "max_out_of_range")
    return DriftParams(**section.shares(limits), report=section.path("report"))
{% if cookiecutter.serving %}


def _read_serve(section: _Section) -> ServeParams:
    """The ``serve`` section."""
    max_batch_size = section.integer("max_batch_size")
    if max_batch_size < 1:
        raise section.error("max_batch_size", "must be at least 1", max_batch_size)
    max_body_bytes = section.integer("max_body_bytes")
    if max_body_bytes < MIN_BODY_BYTES:
        raise section.error(
            "max_body_bytes", f"must be at least {MIN_BODY_BYTES}", max_body_bytes
        )
    return ServeParams(max_batch_size=max_batch_size, max_body_bytes=max_body_bytes)
{% endif %}


def parse_params(raw: Any, source: str = DEFAULT_PARAMS_FILE) -> Params:
    """Check already-parsed YAML and turn it into ``Params``.

    ``source`` is only used in error messages.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: must contain a mapping of settings (got {raw!r})")
    root = _Section(raw, "", source)
    seed = root.integer("seed")
    if seed < 0:
        raise root.error("seed", "must be 0 or greater", seed)
    return Params(
        seed=seed,
        data=_read_data(root.section("data")),
        model=_read_model(root.section("model")),
        thresholds=_read_thresholds(root.section("thresholds")),
        tolerances=_read_tolerances(root.section("tolerances")),
        paths=_read_paths(root.section("paths")),
        batch=_read_batch(root.section("batch")),
        drift=_read_drift(root.section("drift")),
{% if cookiecutter.serving %}
        serve=_read_serve(root.section("serve")),
{% endif %}
    )


def load_params(path: str | Path = DEFAULT_PARAMS_FILE) -> Params:
    """Read and check the YAML file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found (run the command from the project root, "
            "or pass --params PATH)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: could not be read: {error}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: is not valid YAML: {error}") from None
    return parse_params(raw, source=str(path))
