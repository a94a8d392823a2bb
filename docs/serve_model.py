"""A tiny served model: the example ML DAG's house-price forest behind HTTP, with lineage on every answer.

    AIRFLOW_LINEAGE_URL=http://localhost:8080/lineage AIRFLOW_LINEAGE_TOKEN=<an Airflow API token> \\
        python docs/serve_model.py --model "$AIRFLOW_HOME/lineage_example_data/model.pkl" --port 8000
    curl -si -X POST localhost:8000/predict -d '{"area_m2": 0.3, "rooms": -0.2, "age_years": 1.1}'
    airflow-lineage trace <the X-Lineage-Trace-Id it answered with>

Each answer carries ``X-Model-Version``, ``X-Dataset-Version``, ``X-Reproducible`` and
``X-Lineage-Trace-Id`` (``airflow_lineage_provider.serving.lineage_headers``), and each prediction is
recorded under that trace id with a hash of its input, never the input
(``log_predictions``); ``airflow-lineage trace`` then answers prediction -> deployment -> model version
-> training run -> training data -> raw sources. Only the standard library and the provider's serving
helper are used here (and scikit-learn to run the pickled model). The model version is the one the
DAG gave it: the first 16 hex digits of the pickle's SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import pickle
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from airflow_lineage_provider.serving import LineageClient, LineageUnavailableError

FEATURES = ["area_m2", "rooms", "age_years"]  # as the example DAG's features task writes them
TARGET, ENVIRONMENT = "house-prices-api", "staging"  # as its deploy task deployed the model
log = logging.getLogger("serve_model")


def load(path: str) -> tuple[Callable[[list[float]], float], str]:
    """The pickled model's predict function and its version (as the DAG computed it)."""
    with open(path, "rb") as stream:
        data = stream.read()
    model = pickle.loads(data)  # noqa: S301 - our own DAG's pickle
    return (lambda row: float(model.predict([row])[0])), hashlib.sha256(data).hexdigest()[:16]


def handler(
    predict: Callable[[list[float]], float], model_uri: str, version: str, lineage: LineageClient
) -> type[BaseHTTPRequestHandler]:
    """The request handler: POST /predict with the features as JSON."""

    class Predict(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                row = [float(body[name]) for name in FEATURES]
            except (ValueError, KeyError, TypeError) as exc:
                self._answer(400, {"error": f"send a JSON object with numbers {FEATURES}: {exc}"}, {})
                return
            value = predict(row)
            headers = lineage.lineage_headers(model_uri, version, target=TARGET, environment=ENVIRONMENT)
            try:
                lineage.log_predictions(
                    model_uri,
                    version,
                    [{"input": body, "prediction": value}],
                    target=TARGET,
                    environment=ENVIRONMENT,
                )
            except LineageUnavailableError as exc:  # serving does not fail because lineage does
                log.warning("prediction not recorded: %s", exc)
            self._answer(200, {"predicted_price_k": round(value, 2)}, headers)

        def _answer(self, code: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(code)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            log.info(format, *args)

    return Predict


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the example DAG's model.pkl")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    predict, version = load(args.model)
    lineage = LineageClient(os.environ["AIRFLOW_LINEAGE_URL"], os.environ.get("AIRFLOW_LINEAGE_TOKEN"))
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), handler(predict, f"file://{args.model}", version, lineage)
    )
    print(f"serving model version {version} on http://127.0.0.1:{args.port}/predict")
    server.serve_forever()


if __name__ == "__main__":
    main()
