"""Read ``params.yaml`` into typed, read-only settings.

Every setting of the pipeline lives in ``params.yaml``; DVC reads the same file
to decide which stages to re-run. ``load_params`` checks every value with
pydantic and raises ``ConfigError`` with a message that names the file, the
field, the rule and the value, for example:

    params.yaml: data.test_size: must be less than 1 (got 1.5)

Each section of the file is one class below. The rules are strict: a number
must be written as a number (``"0.2"`` and ``true`` are refused), a whole
number as a whole number, and a key that the section does not know is an
error (a typo such as ``max_iters`` would otherwise be silently ignored).
Top-level sections that ``Params`` does not check are listed in
``OTHER_SECTIONS``, each read by its own loader: the model server's ``serve``
(``load_serve_params``, in projects made with serving); add the name of a
section of your own there. Before
any of this, ``yaml_rules.check_shape`` refuses anchors, aliases and duplicate
keys, which DVC would expand or refuse when it reads the same file.

To add a setting: add the key to ``params.yaml`` and one field, with its rule,
to the class of its section (for example ``n_jobs: int = Field(ge=1)``).

Relative paths in ``paths`` are relative to the directory you run the commands
from, which is the project root (where DVC runs them too).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from .yaml_rules import ShapeError, check_shape

DEFAULT_PARAMS_FILE = "params.yaml"
# Fewer solver iterations stop logistic regression before it fits anything.
MIN_MAX_ITER = 10
# PyYAML's LibYAML parser where its wheel has one (the common wheels do): the
# same values as the pure-Python parser, ten times sooner. ``gate`` reads two
# YAML files, params.yaml and dvc.lock, every time it runs.
YAML_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
# Top-level sections of params.yaml that their own modules check, not ``Params``.
OTHER_SECTIONS = frozenset({"serve"})
# NumPy's random generator, which scikit-learn seeds, takes 32 bits.
MAX_SEED = 2**32 - 1
# A request body limit below this would refuse even one instance.
MIN_BODY_BYTES = 4096


class ConfigError(ValueError):
    """``params.yaml`` is missing, is not valid YAML, or holds an invalid value."""


def _non_empty_string(value: Any) -> Any:
    """Refuse anything but a string with at least one visible character."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


# Field types shared by the sections.
Text = Annotated[str, BeforeValidator(_non_empty_string)]
# A file path, written as a string in params.yaml.
FilePath = Annotated[Path, BeforeValidator(_non_empty_string), Field(strict=False)]
# A score, a margin or a proportion.
Share = Annotated[float, Field(ge=0, le=1)]


class Section(BaseModel):
    """One section of ``params.yaml``: strict types, no unknown keys, read-only.

    ``defer_build``: pydantic prepares a class's validator the first time it
    is used, not when the module is imported, so a command that reads only
    some sections (``gate``, ``serve``) starts sooner.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        defer_build=True,
    )


class DataParams(Section):
    """Where the raw data comes from and how it is split."""

    source: Text
    target: Text
    test_size: float = Field(gt=0, lt=1)


class LogisticRegressionParams(Section):
    """Hyperparameters of scikit-learn's ``LogisticRegression``."""

    C: float = Field(gt=0)
    max_iter: int = Field(ge=MIN_MAX_ITER)


class RandomForestParams(Section):
    """Hyperparameters of scikit-learn's ``RandomForestClassifier``."""

    n_estimators: int = Field(ge=1)
    # null: grow each tree until its leaves are pure.
    max_depth: int | None = Field(ge=1)
    min_samples_leaf: int = Field(ge=1)


class GradientBoostingParams(Section):
    """Hyperparameters of scikit-learn's ``GradientBoostingClassifier``."""

    n_estimators: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    max_depth: int = Field(ge=1)


# The estimators ``model.type`` may name; pipeline/train.py maps each to its class.
ModelType = Literal["logistic_regression", "random_forest", "gradient_boosting"]


class ModelParams(Section):
    """Which estimator to train, and the hyperparameters of each.

    Only the section that ``type`` names is used (and required); the others
    stay in ``params.yaml`` so that ``dvc exp run -S model.type=random_forest``
    needs nothing else.
    """

    type: ModelType
    logistic_regression: LogisticRegressionParams | None = None
    random_forest: RandomForestParams | None = None
    gradient_boosting: GradientBoostingParams | None = None

    @model_validator(mode="after")
    def _chosen_section_is_present(self) -> ModelParams:
        """The section of the chosen estimator must be there."""
        if getattr(self, self.type) is None:
            raise ValueError(f"needs a {self.type} section (type is {self.type})")
        return self

    def hyperparameters(self) -> dict[str, Any]:
        """The chosen estimator's hyperparameters, as keyword arguments."""
        chosen: Section = getattr(self, self.type)
        return chosen.model_dump()


class MetricLimits(Section):
    """A value between 0 and 1 for each metric of the test set."""

    accuracy: Share
    f1: Share
    roc_auc: Share


class Paths(Section):
    """Files that the pipeline stages read and write."""

    raw: FilePath
    train: FilePath
    test: FilePath
    model: FilePath
    training: FilePath
    metrics: FilePath
    confusion_matrix: FilePath
    roc: FilePath
    confusion_matrix_image: FilePath
    roc_image: FilePath


class BatchParams(Section):
    """Settings of batch scoring (``monitoring/batch.py``)."""

    input: Text
    output: FilePath
    chunk_size: int = Field(ge=1)


class DriftParams(Section):
    """Settings of the drift check (``monitoring/drift.py``): when a feature drifted."""

    p_value: Share
    min_statistic: Share
    max_missing: Share
    max_out_of_range: Share
    report: FilePath


class ServeParams(Section):
    """The ``serve`` section: limits of one request to the model server."""

    # Most records one POST /predict request may hold.
    max_batch_size: int = Field(ge=1)
    # Largest request body in bytes.
    max_body_bytes: int = Field(ge=MIN_BODY_BYTES)


class Params(Section):
    """All settings of the pipeline in ``params.yaml``."""

    # The sections of OTHER_SECTIONS are checked by their owners.
    model_config = ConfigDict(extra="ignore")

    seed: int = Field(ge=0, le=MAX_SEED)
    data: DataParams
    model: ModelParams
    # The minimum of each metric (the quality gate).
    thresholds: MetricLimits
    # How far below the champion's score each metric of a new model may fall.
    tolerances: MetricLimits
    paths: Paths
    batch: BatchParams
    drift: DriftParams


# The rule each kind of pydantic error stands for, in this file's words.
RULES = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a known setting",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a non-empty string",
    "model_type": "must be a mapping of settings",
    "model_attributes_type": "must be a mapping of settings",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be one of {expected}",
}


def describe(error: ValidationError, source: str, prefix: str = "") -> str:
    """The first problem of ``error`` as ``<file>: <field>: <rule> (got <value>)``."""
    problem = error.errors()[0]
    field = prefix + ".".join(str(part) for part in problem["loc"])
    if problem["type"] == "value_error":
        # Raised by a validator of this module: its own words.
        rule = str(problem["ctx"]["error"])
    else:
        template = RULES.get(problem["type"], problem["msg"])
        # A limit of 1 reads "1", not pydantic's "1.0".
        limits = {
            key: f"{value:g}" if isinstance(value, float) else value
            for key, value in problem.get("ctx", {}).items()
        }
        rule = template.format(**limits)
    if problem["type"] == "missing" or isinstance(problem["input"], Mapping):
        # Nothing to quote: the value is missing, or a whole section.
        return f"{source}: {field}: {rule}"
    return f"{source}: {field}: {rule} (got {problem['input']!r})"


SectionT = TypeVar("SectionT", bound=BaseModel)


def parse_section(
    raw: Any, settings: type[SectionT], source: str, prefix: str = ""
) -> SectionT:
    """Check already-parsed YAML against ``settings``; ``prefix`` names its place."""
    if not isinstance(raw, Mapping):
        where = f"{prefix.rstrip('.')}: " if prefix else ""
        raise ConfigError(
            f"{source}: {where}must contain a mapping of settings (got {raw!r})"
        )
    try:
        return settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe(error, source, prefix)) from None


def parse_params(raw: Any, source: str = DEFAULT_PARAMS_FILE) -> Params:
    """Check already-parsed YAML and turn it into ``Params``.

    ``source`` is only used in error messages.
    """
    if isinstance(raw, Mapping):
        known = OTHER_SECTIONS | set(Params.model_fields)
        for name in raw:
            if name not in known:
                raise ConfigError(
                    f"{source}: {name}: is not a known setting"
                    " (a section of your own goes in config.OTHER_SECTIONS)"
                )
    return parse_section(raw, Params, source)


def parse_yaml(text: str) -> Any:
    """The data of a YAML document: plain values only, never Python objects.

    Raises ``ShapeError`` (a ``yaml.YAMLError``) for what DVC would expand or
    refuse (``yaml_rules.py``), before anything is expanded.
    """
    try:
        check_shape(text, YAML_LOADER)
    except ShapeError:
        raise
    except yaml.YAMLError:
        # LibYAML's message names the line; the pure-Python parser's also
        # quotes it and points at the column. Parse again for that message.
        check_shape(text, yaml.SafeLoader)
    return yaml.load(text, Loader=YAML_LOADER)


def read_params_file(path: str | Path = DEFAULT_PARAMS_FILE) -> Any:
    """The parsed YAML of ``path``, unchecked."""
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
        return parse_yaml(text)
    except ShapeError as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: is not valid YAML: {error}") from None


def load_params(path: str | Path = DEFAULT_PARAMS_FILE) -> Params:
    """Read and check the YAML file at ``path``."""
    return parse_params(read_params_file(path), source=str(path))


def load_section(
    name: str, settings: type[SectionT], path: str | Path = DEFAULT_PARAMS_FILE
) -> SectionT:
    """Read and check one top-level section of ``path``, such as ``serve``."""
    raw = read_params_file(path)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: must contain a mapping of settings (got {raw!r})")
    if name not in raw:
        raise ConfigError(f"{path}: {name}: is required but missing")
    return parse_section(raw[name], settings, str(path), prefix=f"{name}.")


def load_serve_params(path: str | Path = DEFAULT_PARAMS_FILE) -> ServeParams:
    """Read and check the ``serve`` section of ``path``."""
    return load_section("serve", ServeParams, path)
