"""Train, evaluate and use a binary classifier, step by step.

The pipeline has one module per step, each runnable on its own:

* ``config``   - read and check ``params.yaml``
* ``data``     - load the raw data, validate it, split it into train and test
* ``train``    - fit a scikit-learn pipeline and save it
* ``evaluate`` - score the model on the test set and write metrics and plots
* ``predict``  - load the saved model and predict on new rows
* ``integrity`` - check that the model file is the one ``dvc.lock`` recorded
* ``cli``      - the ``python -m <package>`` command line that DVC calls
"""

from importlib.metadata import PackageNotFoundError, version

# The distribution this package is installed as (pyproject.toml's name).
DISTRIBUTION = {{ cookiecutter.project_slug | tojson }}

try:
    # Set from the git tag when the package is built (hatch-vcs, pyproject.toml).
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
