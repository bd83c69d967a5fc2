"""The ``serve`` command and the ``serve`` section of ``params.yaml``.

Everything the model server adds to the rest of the package is here: the CLI
finds this module and offers its ``COMMAND`` (a project made without serving
has neither this module nor ``serve.py``, and no ``serve`` command). This
module stays light: FastAPI and uvicorn, which come with the ``serve`` extra,
are imported only when the server starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import Field

from .cli import EXIT_ERROR, EXIT_OK, Command
from .config import DEFAULT_PARAMS_FILE, Params, Section, load_section
from .integrity import lock_beside

# A request body limit below this would refuse even one instance.
MIN_BODY_BYTES = 4096


class ServeParams(Section):
    """The ``serve`` section: limits of one request to the model server."""

    # Most records one POST /predict request may hold.
    max_batch_size: int = Field(ge=1)
    # Largest request body in bytes.
    max_body_bytes: int = Field(ge=MIN_BODY_BYTES)


def load_serve_params(path: str | Path = DEFAULT_PARAMS_FILE) -> ServeParams:
    """Read and check the ``serve`` section of ``path``."""
    return load_section("serve", ServeParams, path)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``serve`` command."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: 8000)"
    )


def run_serve(args: argparse.Namespace, params: Params) -> int:
    """Serve the model over HTTP until stopped (Ctrl+C)."""
    settings = load_serve_params(args.params)
    try:
        import uvicorn

        from .serve import build_app
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


COMMAND = Command(
    run_serve,
    "serve the model over HTTP (needs the serve extra)",
    add_serve_arguments,
    check=load_serve_params,
)
