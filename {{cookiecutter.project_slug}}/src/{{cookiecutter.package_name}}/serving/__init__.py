"""The model behind an HTTP API: the FastAPI app (``app``), the JSON bodies it
reads and answers (``bodies``), what it refuses before the model sees a request
(``limits``) and the ``serve`` command (``command``).
"""
