"""The saved model: load it and predict (``predict``), say which model it is
(``integrity``), its data contract (``schema``) and its card (``report``).
"""
