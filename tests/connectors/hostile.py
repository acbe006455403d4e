"""A deliberately badly behaved upstream (werkzeug) for fault tests: one mode per path."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
DATA = Path(__file__).resolve().parents[1] / "data"

FAULT = f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault>
<faultcode>soap:Server.BaoTri</faultcode><faultstring>Hệ thống đang bảo trì</faultstring>
</soap:Fault></soap:Body></soap:Envelope>"""

MALFORMED = f"""<?xml version="1.0"?><soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><KetQua>"""

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><x>&lol5;</x></soap:Body></soap:Envelope>"""

EXTERNAL_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><x>&xxe;</x></soap:Body></soap:Envelope>"""

ENTERPRISE = {
    "Data": {
        "MainInformation": {"ENTERPRISE_GDT_CODE": "0108888888", "NAME": "Công ty Thử"},
        "HOAdress": {},
        "Representatives": [],
    }
}


def _xml(body: str, status: int = 200) -> Response:
    return Response(body.encode("utf-8"), status=status, content_type="text/xml; charset=utf-8")


class HostileUpstream:
    """WSGI app: /soap/<mode>/… and /rest/<mode>/…; counts hits per mode."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.delay = 3.0

    def hit_count(self, key: str) -> int:
        """Return how many requests reached `key` (e.g. "rest/flaky")."""
        with self._lock:
            return self.hits[key]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        key = "/".join(parts[:2])
        with self._lock:
            self.hits[key] += 1
            count = self.hits[key]
        response = self.respond(parts[0], parts[1] if len(parts) > 1 else "", count, request)
        return response(environ, start_response)

    def respond(self, kind: str, mode: str, count: int, request: Request) -> Response:
        if mode == "slow":
            time.sleep(self.delay)
            return _xml(FAULT, 500)
        if mode == "http500":
            return Response("<html><body>Internal Server Error</body></html>", 500,
                            content_type="text/html")  # fmt: skip
        if mode == "http503":
            return Response("", 503)
        if mode == "flaky":
            if count % 2 == 1:
                return Response("busy", 503, content_type="text/plain")
            return self.ok(kind)
        if mode == "big":
            return Response(self._big(), 200, content_type="text/xml"
                            if kind == "soap" else "application/json")  # fmt: skip
        if mode == "big-declared":
            # An iterable body: werkzeug would replace the Content-Length of a byte string
            # with its real length, and the cap on the declared length would go untested.
            return Response(iter([b"<x/>"]), 200,
                            headers={"Content-Length": str(5 * 1024 * 1024)},
                            content_type="text/xml")  # fmt: skip
        if mode == "nonxml" or mode == "nonjson":
            return Response("<html><body>Cổng thông tin</body></html>", 200,
                            content_type="text/html; charset=utf-8")  # fmt: skip
        if mode == "badjson":
            return Response("{not json", 200, content_type="application/json")
        if kind == "soap":
            if mode == "fault":
                return _xml(FAULT, 500)
            if mode == "malformed":
                return _xml(MALFORMED)
            if mode == "dtd":
                return _xml(BILLION_LAUGHS)
            if mode == "xxe":
                return _xml(EXTERNAL_ENTITY)
            if mode == "wsdl-broken":
                return _xml("<definitions><oops")
            if mode == "vies":
                return self.vies(request)
            if mode == "land":
                return self.land(request)
        if mode == "ok":
            return self.ok(kind)
        return Response("not here", 404, content_type="text/plain")

    def ok(self, kind: str) -> Response:
        if kind == "rest":
            return Response(json.dumps(ENTERPRISE), 200, content_type="application/json")
        return _xml(FAULT, 500)

    @staticmethod
    def _big() -> Any:
        chunk = b" " * 65536
        yield b"<?xml version='1.0'?><x>"
        for _ in range(64):  # 4 MiB, streamed without a Content-Length
            yield chunk
        yield b"</x>"

    @staticmethod
    def vies(request: Request) -> Response:
        body = request.get_data(as_text=True)
        if ">XX<" in body:
            name = "fault-INVALID_INPUT.xml"
        elif ">DE<" in body:
            name = "fault-MS_UNAVAILABLE.xml"
        elif ">0123456749<" in body:
            name = "checkVat-valid.xml"
        else:
            name = "checkVat-invalid.xml"
        status = 500 if name.startswith("fault") else 200
        return _xml((DATA / "vies" / name).read_text(encoding="utf-8"), status)

    @staticmethod
    def land(request: Request) -> Response:
        body = request.get_data(as_text=True)
        found = ">345<" in body and ">12<" in body
        name = "TraCuuThuaDat-found.xml" if found else "TraCuuThuaDat-empty.xml"
        return _xml((DATA / "land" / name).read_text(encoding="utf-8"))
