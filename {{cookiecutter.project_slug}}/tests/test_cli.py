"""Tests for the command line: exit codes, output and error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }}.cli import COMMANDS, all_commands, build_parser
from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import Params, load_params


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_takes_params() -> None:
    parser = build_parser(all_commands())

    for name in COMMANDS:
        extra = ["--input", "x.csv"] if name == "predict" else []
        args = parser.parse_args([name, "--params", "other.yaml", *extra])
        assert args.params == "other.yaml"


def test_params_defaults_to_params_yaml() -> None:
    assert build_parser(all_commands()).parse_args(["train"]).params == "params.yaml"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as error:
        main([])

    assert error.value.code == 2


def test_predict_requires_input(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as error:
        main(["predict"])

    assert error.value.code == 2
    assert "--input" in capsys.readouterr().err


def test_pipeline_commands_succeed(
    capsys: pytest.CaptureFixture[str], params_file: Path, params: Params
) -> None:
    for command in ("ingest", "prepare", "train", "evaluate"):
        code, out, err = run(capsys, command, "--params", str(params_file))
        assert (code, err) == (0, ""), command
        assert "Wrote" in out

    assert params.paths.model.is_file()
    assert params.paths.metrics.is_file()


def test_gate_passes_when_every_metric_meets_its_minimum(
    capsys: pytest.CaptureFixture[str], params_file: Path, evaluated_params: Params
) -> None:
    code, out, err = run(capsys, "gate", "--params", str(params_file))

    assert code == 0
    assert err == ""
    assert "roc_auc" in out
    assert "Quality gate passed." in out


def fake_dvc(monkeypatch: pytest.MonkeyPatch, exit_code: int) -> list[list[str]]:
    """Replace DVC's command line with one that prints its arguments and
    returns ``exit_code``; the list collects the arguments of each call."""
    calls: list[list[str]] = []

    def dvc_main(argv: list[str]) -> int:
        calls.append(argv)
        print("dvc", *argv)
        return exit_code

    monkeypatch.setattr("dvc.cli.main", dvc_main)
    return calls


def test_repro_checks_then_runs_dvc_then_the_gate(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
    evaluated_params: Params,
) -> None:
    """``make repro`` is one process: check, ``dvc repro``, gate, in this order."""
    calls = fake_dvc(monkeypatch, exit_code=0)
    monkeypatch.chdir(params_file.parent)

    code, out, err = run(capsys, "repro")

    assert (code, err) == (0, "")
    assert calls == [["repro"]]
    steps = ("params.yaml is valid", "dvc repro", "Quality gate passed.")
    assert [out.index(step) for step in steps] == sorted(out.index(s) for s in steps)


def test_repro_refuses_an_alias_before_dvc_reads_the_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
) -> None:
    """DVC expands every alias: a 1 kB file of nested ones fills the memory."""
    calls = fake_dvc(monkeypatch, exit_code=0)
    monkeypatch.chdir(params_file.parent)
    with params_file.open("a", encoding="utf-8") as settings:
        settings.write("other: &many [x, x]\nmore: [*many, *many]\n")

    code, out, err = run(capsys, "repro")

    assert (code, calls) == (2, [])
    assert err.count("\n") == 1
    assert "other: anchors (&many) and aliases are not allowed" in err


def test_repro_stops_with_dvcs_exit_code_when_the_pipeline_fails(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
    evaluated_params: Params,
) -> None:
    fake_dvc(monkeypatch, exit_code=255)
    monkeypatch.chdir(params_file.parent)

    code, out, err = run(capsys, "repro")

    assert code == 255
    assert "Quality gate" not in out + err


def test_repro_without_dvc_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
) -> None:
    """An install without the dev extra (the serving image) has no DVC."""
    monkeypatch.setitem(sys.modules, "dvc.cli", None)  # importing it fails
    monkeypatch.chdir(params_file.parent)

    code, out, err = run(capsys, "repro")

    assert code == 2
    assert err == "error: repro needs DVC (the dev extra): run `make setup`\n"


def test_repro_refuses_another_params_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    params_file: Path,
) -> None:
    """DVC's stages read params.yaml: checking another file would prove nothing."""
    calls = fake_dvc(monkeypatch, exit_code=0)
    other = params_file.with_name("other.yaml")
    other.write_text(params_file.read_text(encoding="utf-8"), encoding="utf-8")

    code, out, err = run(capsys, "repro", "--params", str(other))

    assert code == 2
    assert calls == []
    assert err == (
        f"error: {other}: repro runs the pipeline of dvc.yaml, whose stages read"
        " params.yaml; run it without --params\n"
    )


def test_gate_fails_and_lists_the_metrics_below_minimum(
    capsys: pytest.CaptureFixture[str],
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
    evaluated_params: Params,
) -> None:
    params_dict["thresholds"] = {"accuracy": 0.5, "f1": 1.0, "roc_auc": 1.0}
    strict_file = write_params(params_dict)

    code, out, err = run(capsys, "gate", "--params", str(strict_file))

    assert code == 1
    assert "FAIL" in out
    assert "Quality gate failed:" in err
    assert f"set in {strict_file} thresholds.f1" in err
    assert f"set in {strict_file} thresholds.roc_auc" in err
    assert "thresholds.accuracy" not in err


def test_gate_lists_every_metric_in_the_file(
    capsys: pytest.CaptureFixture[str], params_file: Path, evaluated_params: Params
) -> None:
    metrics_file = evaluated_params.paths.metrics
    metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    metrics_file.write_text(json.dumps({**metrics, "precision": 0.5}), "utf-8")

    code, out, err = run(capsys, "gate", "--params", str(params_file))

    assert code == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()}
    assert lines["precision"] == ["precision", "0.5000"]
    assert lines["accuracy"][2:] == ["minimum", "0.8000", "ok"]


def loaded_after(commands: list[list[str]]) -> str:
    """Run each command's ``main`` in a new Python process; print its exit codes,
    then which of pandas, pandera and scikit-learn it loaded."""
    script = (
        "import json, sys\n"
        f"from {package.__name__}.cli import main\n"
        "codes = [main(command) for command in json.loads(sys.argv[1])]\n"
        "watched = ('pandas', 'pandera', 'sklearn')\n"
        "loaded = [name for name in watched if name in sys.modules]\n"
        "print(codes, loaded)\n"
    )
    src_dir = Path(package.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(src_dir)}
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.stdout, result.stderr
    return result.stdout.splitlines()[-1]


def test_check_and_gate_start_without_pandas_or_scikit_learn(
    params_file: Path, evaluated_params: Params
) -> None:
    """The quick commands import neither library (seconds each to load)."""
    commands = [
        [command, "--params", str(params_file)] for command in ("check", "gate")
    ]

    assert loaded_after(commands) == "[0, 0] []"


def test_ingest_of_a_csv_file_loads_neither_scikit_learn_nor_pandera(
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
    tmp_path: Path,
) -> None:
    """Only a bundled dataset needs scikit-learn (a second or more to load), and
    only ``prepare`` checks the data contract (pandera: a quarter of a second)."""
    source = tmp_path / "rows.csv"
    source.write_text("size,target\n" + "".join(f"{n},{n % 2}\n" for n in range(40)))
    params_dict["data"]["source"] = str(source)
    params_file = write_params(params_dict)

    assert loaded_after([["ingest", "--params", str(params_file)]]) == "[0] ['pandas']"
    raw = load_params(params_file).paths.raw
    assert pd.read_csv(raw).shape == (40, 2)


def test_gate_without_metrics_explains_what_to_run(
    capsys: pytest.CaptureFixture[str], params_file: Path
) -> None:
    code, out, err = run(capsys, "gate", "--params", str(params_file))

    assert code == 2
    assert err.startswith("error: metrics file not found")
    assert "dvc repro" in err


def test_check_names_a_bad_setting_that_dvc_would_not(
    capsys: pytest.CaptureFixture[str],
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
) -> None:
    assert run(capsys, "check", "--params", str(write_params(params_dict)))[0] == 0
    params_dict["paths"]["model"] = ""
    bad_file = write_params(params_dict)

    code, out, err = run(capsys, "check", "--params", str(bad_file))

    assert code == 2
    assert err == (
        f"error: {bad_file}: paths.model: must be a non-empty string (got '')\n"
    )


def test_invalid_params_is_one_error_line(
    capsys: pytest.CaptureFixture[str],
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
) -> None:
    params_dict["data"]["test_size"] = 1.5
    bad_file = write_params(params_dict)

    code, out, err = run(capsys, "prepare", "--params", str(bad_file))

    assert code == 2
    assert err == (
        f"error: {bad_file}: data.test_size: must be less than 1 (got 1.5)\n"
    )
    assert "Traceback" not in err


def test_missing_params_file_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "train", "--params", str(tmp_path / "none.yaml"))

    assert code == 2
    assert "file not found" in err


def test_bad_data_source_is_reported(
    capsys: pytest.CaptureFixture[str],
    params_dict: dict[str, Any],
    write_params: Callable[[dict[str, Any]], Path],
) -> None:
    params_dict["data"]["source"] = "data/raw/missing.csv"
    bad_file = write_params(params_dict)

    code, out, err = run(capsys, "ingest", "--params", str(bad_file))

    assert code == 2
    assert err == "error: data file not found: data/raw/missing.csv\n"


def test_predict_without_model_explains_what_to_run(
    capsys: pytest.CaptureFixture[str], params_file: Path, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "predict", "--params", str(params_file), "--input", "rows.csv"
    )

    assert code == 2
    assert err.startswith("error: model file not found")
    assert "dvc repro" in err


def test_predict_prints_csv_to_stdout(
    capsys: pytest.CaptureFixture[str], params_file: Path, trained_params: Params
) -> None:
    input_path = str(trained_params.paths.test)

    code, out, err = run(
        capsys, "predict", "--params", str(params_file), "--input", input_path
    )

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "prediction,probability"
    assert len(lines) == 1 + len(pd.read_csv(input_path))


def test_predict_writes_output_file(
    capsys: pytest.CaptureFixture[str],
    params_file: Path,
    trained_params: Params,
    tmp_path: Path,
) -> None:
    output = tmp_path / "out" / "predictions.csv"

    code, out, err = run(
        capsys,
        "predict",
        "--params",
        str(params_file),
        "--input",
        str(trained_params.paths.test),
        "--output",
        str(output),
    )

    assert code == 0
    predictions = pd.read_csv(output)
    assert list(predictions.columns) == ["prediction", "probability"]
    assert f"to {output}" in out


def test_predict_with_a_missing_column_names_it(
    capsys: pytest.CaptureFixture[str],
    params_file: Path,
    trained_params: Params,
    tmp_path: Path,
) -> None:
    rows = pd.read_csv(trained_params.paths.test).drop(columns=["worst_symmetry"])
    input_path = tmp_path / "rows.csv"
    rows.to_csv(input_path, index=False)

    code, out, err = run(
        capsys, "predict", "--params", str(params_file), "--input", str(input_path)
    )

    assert code == 2
    assert err == (
        "error: input: feature column 'worst_symmetry' is missing"
        " (the model needs 30 feature columns)\n"
    )
