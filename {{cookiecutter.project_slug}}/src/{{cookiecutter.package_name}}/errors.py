"""The errors that mean "the user has something to fix", not "the code has a bug".

The command line prints them as one line (``error: <message>``) instead of a
traceback. They live in this small module, apart from the code that raises
them, so that the command line can catch them without importing pandas or
scikit-learn: ``check`` and ``gate`` start in a fraction of a second.
"""

from __future__ import annotations


class DataError(ValueError):
    """The data is missing, unreadable or not suitable for training."""


class MetricsError(ValueError):
    """The metrics file is missing or does not hold the expected numbers."""


class ModelNotFoundError(FileNotFoundError):
    """The model file does not exist yet."""


class ModelLoadError(ValueError):
    """The model file exists but holds no usable model (truncated or corrupt)."""
