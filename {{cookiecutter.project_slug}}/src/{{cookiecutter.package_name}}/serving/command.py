"""The ``serve`` command: the model server's part of the command line.

The CLI finds this module by name (``cli.OPTIONAL_COMMANDS``) and offers the
command it describes (``HELP``, ``add_arguments``, ``check``, ``run``): a
project made without serving has neither this module nor ``serving/app.py``, and no
``serve`` command. Like ``cli.py``, it imports the server (FastAPI and uvicorn,
which come with the ``serve`` extra) only when the command runs, so that every
other command starts without them. The ``serve`` section of ``params.yaml`` is
``config.ServeParams``.
"""

from __future__ import annotations

import argparse
import sys

from ..config import Params, load_serve_params
from ..errors import EXIT_ERROR, EXIT_OK
from ..model.integrity import lock_beside

HELP = "serve the model over HTTP (needs the serve extra)"
# ``check`` checks the ``serve`` section of params.yaml with it.
check = load_serve_params


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``serve`` command."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: 8000)"
    )


def run(args: argparse.Namespace, params: Params) -> int:
    """Serve the model over HTTP until stopped (Ctrl+C)."""
    settings = load_serve_params(args.params)
    try:
        import uvicorn

        from .app import build_app
    except ModuleNotFoundError as error:
        print(
            f"error: {error.name} is not installed; run `make setup` "
            "(or pip install -e '.[serve]')",
            file=sys.stderr,
        )
        return EXIT_ERROR
    # Loads the model now, so a missing model is a one-line error, not a server
    # that fails on its first request.
    app = build_app(params, settings, lock=lock_beside(args.params))
    uvicorn.run(app, host=args.host, port=args.port)
    return EXIT_OK
