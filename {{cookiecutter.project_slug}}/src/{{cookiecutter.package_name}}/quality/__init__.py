"""The quality gates: the metrics against their minimums (``metrics``) and the
new model against the champion (``compare``).
"""
