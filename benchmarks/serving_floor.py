"""The floor the baked model server is judged by (``bench_serving.py`` runs it).

Two things, both inside the baked project's virtualenv and working directory:

* ``create_app``: a minimal FastAPI endpoint that does what any server of
  this model must do, and nothing else: FastAPI parses the JSON body, the
  endpoint builds the DataFrame and calls the same model's ``predict_proba``.
  No checks, no limits (``uvicorn --factory serving_floor:create_app``);
  ``GET /health`` answers once the model is loaded, as the app's does.
* ``python serving_floor.py ROWS_JSON``: the model call's own cost, the
  median milliseconds of ``predict_proba`` on 1 and 100 rows, given as a
  DataFrame (what the server does) and as a NumPy array (a faster path the
  pipeline accepts), printed as JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

# The baked project's virtualenv has them; the template's own mypy may not.
import joblib  # type: ignore[import-not-found,unused-ignore]
import pandas as pd  # type: ignore[import-untyped,unused-ignore]
from fastapi import FastAPI  # type: ignore[import-not-found,unused-ignore]

MODEL = Path("models/model.joblib")
CALLS = 200


def create_app() -> FastAPI:
    """The minimal endpoint: parse, build the DataFrame, ``predict_proba``."""
    model = joblib.load(MODEL)
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: dict[str, Any]) -> dict[str, Any]:
        probabilities = model.predict_proba(pd.DataFrame(body["instances"]))[:, 1]
        return {
            "predictions": [
                {"prediction": int(p >= 0.5), "probability": float(p)} for p in probabilities
            ]
        }

    return app


def median_ms(call: Any, argument: Any) -> float:
    """The median milliseconds of ``call(argument)`` over ``CALLS`` calls."""
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        call(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def model_call_costs(rows: list[dict[str, float]]) -> dict[str, float]:
    """Milliseconds of one ``predict_proba`` call, by input shape and type."""
    model = joblib.load(MODEL)
    costs = {}
    for count in (1, 100):
        frame = pd.DataFrame((rows * (count // len(rows) + 1))[:count])
        costs[f"DataFrame, {count} rows"] = median_ms(model.predict_proba, frame)
        with warnings.catch_warnings():  # "X does not have valid feature names"
            warnings.simplefilter("ignore", UserWarning)
            costs[f"NumPy array, {count} rows"] = median_ms(model.predict_proba, frame.to_numpy())
    return costs


if __name__ == "__main__":
    instances = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(model_call_costs(instances)))
