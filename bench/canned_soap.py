"""A fast SOAP upstream: the population WSDL and one canned answer (bench/query_bench.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

WSDL = Path(os.environ["BENCH_WSDL_FILE"]).read_bytes()
ANSWER = Path(os.environ["BENCH_ANSWER_FILE"]).read_bytes()


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """GET → the WSDL; POST → the canned SOAP answer."""
    if environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"].read(length)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [ANSWER]
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
    return [WSDL]
