"""The command line: ``python -m <package> <command> [--params PATH] ...``.

Commands:

* ``check``    - check params.yaml and name the first bad setting
* ``ingest``   - write a snapshot of the raw data (``data.source``)
* ``prepare``  - validate the snapshot, write the train/test split
* ``train``    - fit the model and save it
* ``evaluate`` - score the model, write the metrics and plot data
* ``gate``     - fail (exit 1) when the model is not the one dvc.lock recorded,
  or a metric is below its minimum in params.yaml
* ``repro``    - ``check``, then the DVC pipeline (``dvc repro``), then ``gate``
* ``compare``  - fail (exit 1) when the model scores lower than the champion
  (the model a commit recorded) by more than the tolerances in params.yaml
* ``predict``  - predict the rows of a CSV file
* ``batch``    - score a whole table in chunks (``batch`` in params.yaml)
* ``drift``    - compare a table with the training data; exit 1 on drift
* ``sample``   - write a table to score to ``batch.input`` (the held-out test
  set without its label), unless a table is there
* ``serve``    - serve the model over HTTP (in projects made with serving:
  ``serving/command.py``)

DVC runs ``ingest`` to ``evaluate`` (see ``dvc.yaml``); ``repro`` (what
``make repro`` runs) checks params.yaml before them and runs the gate after
them.

Exit codes: 0 success, 1 quality gate failed, 2 usage or known error (bad
params.yaml, bad data, missing model). Known errors print ``error: <message>``
instead of a traceback. ``repro`` returns DVC's own exit code when the
pipeline fails (DVC's are above 2).

Each ``run_<name>`` function imports the module it needs when it runs, not
at the top of this file: ``check`` and ``gate`` then start without loading
pandas and scikit-learn (a fraction of a second instead of seconds), and each
DVC stage loads only what it uses. The modules themselves import what they
need at their top, as usual.

To add a command: write ``add_<name>_arguments(parser)`` if it takes options,
and ``run_<name>(args, params) -> int`` (importing its module inside), then
add one ``Command`` to ``COMMANDS``. A feature that a project may be made
without brings its command in a module of its own, listed in
``OPTIONAL_COMMANDS`` (the ``serve`` command lives in ``serving/command.py``),
which imports nothing of this module.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .config import DEFAULT_PARAMS_FILE, ConfigError, Params, load_params
from .errors import (
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    EXIT_OK,
    DataError,
    MetricsError,
    ModelLoadError,
    ModelNotFoundError,
)

# Errors that mean "the user has something to fix", not "the code has a bug".
# They are printed as one line; anything else keeps its traceback.
KNOWN_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    DataError,
    MetricsError,
    ModelLoadError,
    ModelNotFoundError,
)


def run_check(args: argparse.Namespace, params: Params) -> int:
    """Report that the settings are valid (``main`` has just checked the
    pipeline's; this checks the sections of the optional commands).

    ``make repro`` runs this before ``dvc repro``: DVC reads params.yaml too, and
    a bad path there is only an "unexpected error" in DVC's words.
    """
    for command in all_commands().values():
        if command.check is not None:
            command.check(args.params)
    print(f"{args.params} is valid")
    return EXIT_OK


def run_ingest(args: argparse.Namespace, params: Params) -> int:
    """Write the snapshot of the raw data."""
    from .pipeline.ingest import ingest

    raw_path = ingest(params)
    print(f"Wrote {raw_path}")
    return EXIT_OK


def run_prepare(args: argparse.Namespace, params: Params) -> int:
    """Write the train and test CSVs."""
    from .pipeline.prepare import prepare

    train_path, test_path = prepare(params)
    print(f"Wrote {train_path} and {test_path}")
    return EXIT_OK


def run_train(args: argparse.Namespace, params: Params) -> int:
    """Fit and save the model."""
    from .pipeline.train import train

    model_path = train(params)
    print(f"Wrote {model_path}")
    return EXIT_OK


def run_evaluate(args: argparse.Namespace, params: Params) -> int:
    """Score the model and write the metrics and plot data."""
    from .pipeline.evaluate import evaluate

    metrics = evaluate(params)
    for name, value in sorted(metrics.items()):
        print(f"{name}: {value}")
    print(f"Wrote {params.paths.metrics}")
    return EXIT_OK


def run_gate(args: argparse.Namespace, params: Params) -> int:
    """Check the model against dvc.lock and the metrics against the thresholds.

    Prints every metric with its minimum (so no ``dvc metrics show`` is needed)
    and exits 1 when the model is not the one the metrics were computed from
    (its hash differs from ``dvc.lock`` beside the params file) or a metric is
    below its minimum.
    """
    from .model.integrity import ModelMismatchError, check_model, lock_beside
    from .quality.metrics import check_thresholds, metrics_table, read_metrics

    metrics = read_metrics(params.paths.metrics)
    if not params.paths.model.is_file():
        raise ModelNotFoundError(
            f"model file not found: {params.paths.model}; run `dvc repro` to train"
            " it, or `dvc pull` to download it from the DVC remote"
        )
    failures = []
    try:
        print(check_model(params.paths.model, lock_beside(args.params)))
    except ModelMismatchError as error:
        failures.append(str(error))
    for line in metrics_table(metrics, params.thresholds):
        print(line)

    failures += check_thresholds(metrics, params.thresholds, params_file=args.params)
    if failures:
        print("Quality gate failed:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return EXIT_GATE_FAILED
    print("Quality gate passed.")
    return EXIT_OK


def run_repro(args: argparse.Namespace, params: Params) -> int:
    """Check the settings, run the DVC pipeline, then the quality gate.

    One process instead of three (``check``, ``dvc repro``, ``gate``): the
    settings are read and checked once, and Python and pydantic start once.
    DVC's own command line runs here, as the ``dvc`` program would run it; each
    stage is still a process of its own. Returns DVC's exit code when the
    pipeline fails, the gate's otherwise.
    """
    if Path(args.params).resolve() != Path(DEFAULT_PARAMS_FILE).resolve():
        raise ConfigError(
            f"{args.params}: repro runs the pipeline of dvc.yaml, whose stages read"
            f" {DEFAULT_PARAMS_FILE}; run it without --params"
        )
    import logging

    try:
        from dvc.cli import main as dvc_main
    except ImportError:  # an install without the dev extra (the serving image)
        message = "error: repro needs DVC (the dev extra): run `make setup`"
        print(message, file=sys.stderr)
        return EXIT_ERROR
    run_check(args, params)
    # DVC's "To track the changes with git, run: git add ..." leaves out
    # reports/ and uv.lock; it is shown only when this logger is enabled for
    # INFO (dvc/repo/scm_context.py). `make repro` prints the README's line.
    logging.getLogger("dvc.repo.scm_context").setLevel(logging.WARNING)
    # The stages write to the same terminal or pipe: what this process printed
    # goes out first.
    sys.stdout.flush()
    exit_code: int = dvc_main(["repro"])
    if exit_code != EXIT_OK:
        return exit_code
    return run_gate(args, params)


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``compare`` command."""
    parser.add_argument(
        "--champion",
        default="HEAD",
        metavar="REV",
        help="git revision whose model is the champion (default: HEAD)",
    )


def run_compare(args: argparse.Namespace, params: Params) -> int:
    """Score the new model and the champion on the test set; exit 1 when worse."""
    from .quality.compare import TABLE_HEADER, compare

    comparison = compare(params, args.champion)
    if comparison.metrics:
        print(TABLE_HEADER)
        for metric in comparison.metrics:
            print(metric.line())
    print(f"compare: {comparison.message}")
    if not comparison.passed:
        print("The new model is worse than the champion:", file=sys.stderr)
        for failure in comparison.failures:
            print(f"  - {failure}", file=sys.stderr)
        return EXIT_GATE_FAILED
    return EXIT_OK


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``predict`` command."""
    parser.add_argument(
        "--input", required=True, metavar="CSV", help="CSV file with feature columns"
    )
    parser.add_argument(
        "--output",
        metavar="CSV",
        help="where to write the predictions (default: print them)",
    )


def run_predict(args: argparse.Namespace, params: Params) -> int:
    """Predict every row of the input CSV."""
    from .pipeline.tables import read_csv, write_csv
    from .model.integrity import lock_beside, warn_if_not_recorded
    from .model.predict import load_model, predict

    model = load_model(params.paths.model)
    warn_if_not_recorded(params.paths.model, lock_beside(args.params))
    frame = read_csv(args.input)
    result = predict(model, frame)
    if args.output is None:
        try:
            result.to_csv(sys.stdout, index=False)
        except BrokenPipeError:  # the reader stopped early (`... | head`): fine
            sys.stderr.close()
    else:
        write_csv(result, Path(args.output))
        print(f"Wrote {len(result)} predictions to {args.output}")
    return EXIT_OK


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``batch`` command."""
    parser.add_argument(
        "--input", metavar="CSV", help="table to score (default: batch.input)"
    )
    parser.add_argument(
        "--output", metavar="CSV", help="predictions file (default: batch.output)"
    )


def run_batch(args: argparse.Namespace, params: Params) -> int:
    """Score a whole table, ``batch.chunk_size`` rows at a time."""
    from .monitoring.batch import score_table
    from .model.integrity import lock_beside

    result = score_table(
        params.paths.model,
        args.input or params.batch.input,
        Path(args.output or params.batch.output),
        params.batch.chunk_size,
        lock=lock_beside(args.params),
    )
    print(
        f"Wrote {result.rows} predictions ({result.chunks} chunks, model"
        f" {result.model}) to {result.output}"
    )
    return EXIT_OK


def add_drift_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``drift`` command."""
    parser.add_argument(
        "--input", metavar="CSV", help="table to check (default: batch.input)"
    )
    parser.add_argument(
        "--report", metavar="JSON", help="report file (default: drift.report)"
    )


def run_drift(args: argparse.Namespace, params: Params) -> int:
    """Compare a table with the training data; exit 1 when a feature drifted."""
    from .monitoring.drift import check_table, write_report

    report = check_table(
        params.paths.train,
        params.paths.model,
        args.input or params.batch.input,
        params.drift,
        params.batch.chunk_size,
    )
    json_path, markdown_path = write_report(
        report, Path(args.report or params.drift.report)
    )
    print(f"Wrote {json_path} and {markdown_path}")
    if report.drifted:
        print(f"Drift in: {', '.join(report.drifted)}", file=sys.stderr)
        return EXIT_GATE_FAILED
    print(f"No drift in {len(report.features)} features.")
    return EXIT_OK


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``sample`` command."""
    parser.add_argument(
        "--output", metavar="CSV", help="where to write it (default: batch.input)"
    )


def run_sample(args: argparse.Namespace, params: Params) -> int:
    """Write a sample table to score, unless a table is there already."""
    from .monitoring.sample import write_sample

    written = write_sample(
        params.paths.test, params.data.target, args.output or params.batch.input
    )
    if written is not None:
        print(
            f"Wrote a sample table to score to {written}: the held-out test set"
            f" ({params.paths.test}) without its label column. Replace it with"
            " your own table, or point batch.input at it (docs/monitoring.md)."
        )
    return EXIT_OK


@dataclass(frozen=True)
class Command:
    """One subcommand: what it does, its help text and its extra options."""

    run: Callable[[argparse.Namespace, Params], int]
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    # Checks the command's own section of params.yaml (``check`` runs it).
    check: Callable[[str], object] | None = None


# The dispatch table: subcommand name -> Command.
COMMANDS: dict[str, Command] = {
    "check": Command(run_check, "check params.yaml and name the first bad setting"),
    "ingest": Command(run_ingest, "write a snapshot of the raw data (data.source)"),
    "prepare": Command(run_prepare, "validate the snapshot and split it"),
    "train": Command(run_train, "fit the model on the training set and save it"),
    "evaluate": Command(run_evaluate, "score the model and write metrics and plots"),
    "gate": Command(run_gate, "exit 1 if a metric is below its minimum"),
    "repro": Command(run_repro, "check params.yaml, run dvc repro, then the gate"),
    "compare": Command(
        run_compare,
        "exit 1 if the model is worse than the champion",
        add_compare_arguments,
    ),
    "predict": Command(
        run_predict, "predict the rows of a CSV file", add_predict_arguments
    ),
    "batch": Command(run_batch, "score a whole table in chunks", add_batch_arguments),
    "drift": Command(
        run_drift,
        "exit 1 if a table drifted from the training data",
        add_drift_arguments,
    ),
    "sample": Command(
        run_sample,
        "write a table to score to batch.input, unless one is there",
        add_sample_arguments,
    ),
}


# Commands of features a project may be made without: command name -> the
# module (in this package) that describes it with ``HELP``,
# ``add_arguments(parser)``, ``check(params_file)`` and ``run(args, params)``.
# The command exists when the module does.
OPTIONAL_COMMANDS: dict[str, str] = {"serve": "serving.command"}


def all_commands() -> dict[str, Command]:
    """``COMMANDS`` and the optional commands whose module is present."""
    commands = dict(COMMANDS)
    for name, module_name in OPTIONAL_COMMANDS.items():
        full_name = f"{__package__}.{module_name}"
        try:
            module = importlib.import_module(full_name)
        except ModuleNotFoundError as error:
            # The feature's module (or its folder) is absent: no command. A
            # library the module needs that is missing is an error, raised.
            absent = error.name is not None and (full_name + ".").startswith(
                error.name + "."
            )
            if not absent:
                raise
            continue
        commands[name] = Command(
            module.run, module.HELP, module.add_arguments, module.check
        )
    return commands


def build_parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of ``commands``."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}",
        description="Prepare data, train, evaluate and use the model.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, command in commands.items():
        subparser = subparsers.add_parser(
            name, help=command.help, description=command.help
        )
        subparser.add_argument(
            "--params",
            default=DEFAULT_PARAMS_FILE,
            metavar="PATH",
            help=f"settings file (default: {DEFAULT_PARAMS_FILE})",
        )
        if command.add_arguments is not None:
            command.add_arguments(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    commands = all_commands()
    args = build_parser(commands).parse_args(argv)
    command = commands[args.command]
    try:
        params = load_params(args.params)
        return command.run(args, params)
    except KNOWN_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
