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

__version__ = "0.1.0"
