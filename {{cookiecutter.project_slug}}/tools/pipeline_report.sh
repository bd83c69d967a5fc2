#!/usr/bin/env bash
# The pull-request report: parameters, metrics and plots of this checkout
# compared with a base commit, the quality gate's verdict, and this model
# scored against the base commit's (champion/challenger, on the same test set).
#
#   bash tools/pipeline_report.sh <base commit>
#
# Writes pipeline-report.md and pipeline-plots/ (open index.html). Run after
# `make repro`, with the virtualenv's python and dvc on PATH. CI calls it on
# every pull request (GitHub Actions and Azure Pipelines alike), then posts
# pipeline-report.md as one comment that later runs update in place.
set -euo pipefail

base="${1:?usage: bash tools/pipeline_report.sh <base commit>}"
if gate="$(python -m {{ cookiecutter.package_name }} gate 2>&1)"; then
  verdict="passed"
else
  verdict="FAILED"
fi
if champion="$(python -m {{ cookiecutter.package_name }} compare --champion "$base" 2>&1)"; then
  against="passed"
else
  against="FAILED: this model is worse than the base branch's"
fi
params="$(dvc params diff "$base" --md)"
# With nothing changed DVC still prints the table's two header lines.
if [ "$(grep -c '^|' <<< "$params")" -le 2 ]; then
  params=""
fi
metrics="$(dvc metrics diff "$base" --all --md)"
{
  echo "## Pipeline report"
  echo
  echo "Compared with the base branch at \`${base:0:7}\`. The quality gate **$verdict**."
  echo
  echo "### Parameters"
  echo
  echo "${params:-No parameter changed.}"
  echo
  echo "### Metrics"
  echo
  echo "${metrics:-No metrics to compare.}"
  echo
  echo "### Quality gate"
  echo
  echo '```text'
  echo "$gate"
  echo '```'
  echo
  echo "### Against the base branch's model"
  echo
  echo "Champion/challenger on the same test set (\`compare\`, tolerances in params.yaml): **$against**."
  echo
  echo '```text'
  echo "$champion"
  echo '```'
} > pipeline-report.md
dvc plots diff "$base" --out pipeline-plots
