"""A bare Flask app returning a canned query answer: the baseline of bench/query_bench.py."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ.get("BENCH_BODY_FILE", "/dev/null")).read_bytes()

app = Flask("bare")


@app.post("/api/v1/datasets/<dataset_id>/query")
def query(dataset_id: str) -> Response:
    """Return the canned answer."""
    return Response(BODY, mimetype="application/json")
