"""Train, evaluate and use a binary classifier, step by step.

The package holds one folder per concept, one module per step:

* ``pipeline``   - the DVC stages: ``ingest``, ``prepare``, ``train``,
  ``evaluate`` (with the tables they read and write, the bundled datasets and
  the plots)
* ``model``      - the saved model: load and predict (``predict``), which model
  it is (``integrity``), its data contract (``schema``), its card (``report``)
* ``quality``    - the gates: the metrics and their minimums (``metrics``), the
  champion/challenger comparison (``compare``)
* ``monitoring`` - new data: batch scoring (``batch``), the drift check
  (``drift``), a first table to score (``sample``)
* ``serving``    - the HTTP API (``app``), its JSON bodies (``bodies``), its
  limits and its command (in projects made with serving)

Beside them: ``config`` (``params.yaml``, read and checked, with
``yaml_rules``), ``errors`` and ``cli``, the ``python -m <package>`` command
line that DVC calls.
"""

from importlib.metadata import PackageNotFoundError, version

# The distribution this package is installed as (pyproject.toml's name).
DISTRIBUTION = {{ cookiecutter.project_slug | tojson }}

try:
    # Set from the git tag when the package is built (hatch-vcs, pyproject.toml).
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
