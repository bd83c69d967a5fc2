"""The errors that mean "the user has something to fix", not "the code has a bug",
and the command line's exit codes.

The command line prints these errors as one line (``error: <message>``) instead
of a traceback, and exits with ``EXIT_ERROR``. They live in this small module,
apart from the code that raises them, so that the command line can catch them
without importing pandas or scikit-learn: ``check`` and ``gate`` start in a
fraction of a second.
"""

from __future__ import annotations

# What ``python -m <package> <command>`` exits with.
EXIT_OK = 0
# A quality gate failed (``gate``, ``compare``, ``drift``).
EXIT_GATE_FAILED = 1
# Bad usage or one of the errors below.
EXIT_ERROR = 2


class DataError(ValueError):
    """The data is missing, unreadable or not suitable for training."""


class MetricsError(ValueError):
    """The metrics file is missing or does not hold the expected numbers."""


class ModelNotFoundError(FileNotFoundError):
    """The model file does not exist yet."""


class ModelLoadError(ValueError):
    """The model file exists but holds no usable model (truncated or corrupt)."""
