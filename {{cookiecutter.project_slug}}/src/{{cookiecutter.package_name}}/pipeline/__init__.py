"""The pipeline's stages, one module each, in the order DVC runs them.

``ingest`` snapshots the raw data, ``prepare`` checks and splits it, ``train``
fits the model, ``evaluate`` scores it (``dvc.yaml``). ``tables``, ``bundled``
and ``plots`` are what the stages share: CSV tables, scikit-learn's datasets,
the evaluation images.
"""
