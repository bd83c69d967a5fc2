#!/usr/bin/env bash
# `make setup`: the virtualenv ($VENV, default .venv) with exactly the versions
# in uv.lock, the project installed in it (editable) with the extras in
# $EXTRAS (comma-separated).
#
# - uv.lock is the one list of versions that laptops, CI and the Docker image
#   install. The first run creates it (`uv lock`): commit it. Later runs install
#   it as it is (`uv sync --locked`), and stop when pyproject.toml changed since
#   (run `uv lock`, then commit both files).
# - Without uv on PATH, uv is installed into the virtualenv from the package
#   index first (the dev extra pins it in uv.lock, so it stays there), with
#   python3's own pip when it can, else with pip bootstrapped into it.
# - If that fails too, pip installs from pyproject.toml instead, with a warning:
#   the versions are then the newest allowed, not the locked ones.
set -euo pipefail

venv="${VENV:-.venv}"
extras="${EXTRAS:-}"

say() { echo "setup: $*"; }

# A notice in a GitHub Actions log, a warning in an Azure Pipelines run (it has
# no notices), a plain line elsewhere.
notice() {
    if [ -n "${GITHUB_ACTIONS:-}" ]; then
        echo "::notice title=uv.lock::$*"
    elif [ -n "${TF_BUILD:-}" ]; then
        echo "##vso[task.logissue type=warning]uv.lock: $*"
    else
        say "$*"
    fi
}

find_uv() {
    if [ -x "$venv/bin/uv" ]; then
        echo "$venv/bin/uv"
    elif command -v uv >/dev/null 2>&1; then
        command -v uv
    fi
}

# The system's python3: the first on PATH outside the virtualenv, which make
# puts first on PATH (its python3 has no pip of its own).
system_python3() {
    local venv_bin dir dirs path=()
    venv_bin="$(cd "$(dirname "$venv")" && pwd -P)/$(basename "$venv")/bin"
    IFS=':' read -ra dirs <<<"$PATH"
    for dir in "${dirs[@]}"; do
        if [ "$(cd "$dir" 2>/dev/null && pwd -P)" != "$venv_bin" ]; then path+=("$dir"); fi
    done
    (IFS=":" && PATH="${path[*]:-}" command -v python3)
}

bootstrap_uv() {
    say "uv is not on PATH: installing it into $venv from the package index"
    local pip_flags=(install --quiet --disable-pip-version-check uv)
    # python3's own pip (22.3 or newer) installs into a virtualenv made without
    # one: bootstrapping pip into it (ensurepip) would take most of the time.
    if "$python3" -m venv --without-pip "$venv" &&
        "$python3" -m pip --python "$venv/bin/python" "${pip_flags[@]}"; then
        return 0
    fi
    say "python3's own pip could not install uv into $venv: bootstrapping pip into it instead"
    "$python3" -m venv "$venv" &&
        "$venv/bin/python" -m pip "${pip_flags[@]}"
}

install_with_pip() {
    echo "warning: uv could not be installed; installing with pip from pyproject.toml," \
        "so the versions are the newest allowed, not the ones in uv.lock" >&2
    "$python3" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check -e ".[$extras]"
}

python3="$(system_python3)" || python3=python3
uv="$(find_uv)"
if [ -z "$uv" ]; then
    if bootstrap_uv; then uv="$venv/bin/uv"; else install_with_pip; exit 0; fi
fi

if [ ! -f uv.lock ]; then
    "$uv" lock
    notice "created uv.lock, the versions every install uses: commit it (git add uv.lock)"
fi
extra_flags=()
IFS=',' read -ra names <<<"$extras"
for name in "${names[@]}"; do
    extra_flags+=(--extra "$name")
done
UV_PROJECT_ENVIRONMENT="$venv" "$uv" sync --locked "${extra_flags[@]}"
