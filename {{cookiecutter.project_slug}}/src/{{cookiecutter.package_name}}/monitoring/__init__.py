"""The model on new data: score a table in chunks (``batch``), check that it
still looks like the training data (``drift``), and a first table to score
(``sample``).
"""
