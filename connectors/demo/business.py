"""Demo national business registry: REST/JSON (werkzeug), shaped like the MOIT/DKKD answers."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.checks import is_valid_tax_code
from connectors.demo.synthetic import (
    DEMO_ORGANIZATIONS,
    LEGAL_FORMS,
    PROVINCES,
    STATUSES,
    Enterprise,
    generate_enterprises,
)

__all__ = ["DEMO_ORGANIZATIONS", "BusinessRegistryApp", "enterprise_json"]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
        headers=headers,
    )


def enterprise_json(e: Enterprise) -> dict[str, Any]:
    """Return the registry's answer for one enterprise."""
    rep = e.representative
    return {
        "Data": {
            "MainInformation": {
                "ENTERPRISE_ID": e.internal_id,
                "ENTERPRISE_CODE": e.tax_code,
                "ENTERPRISE_GDT_CODE": e.tax_code,
                "NAME": e.name,
                "NAME_F": e.name_en,
                "SHORT_NAME": e.short_name,
                "ENTERPRISE_TYPE_ID": e.legal_form,
                "ENTERPRISE_TYPE_NAME": LEGAL_FORMS[e.legal_form],
                "ENTERPRISE_STATUS_ID": e.status,
                "ENTERPRISE_STATUS_NAME": STATUSES[e.status],
                "FOUNDING_DATE": e.founding_date.isoformat() + "T00:00:00",
                "LAST_AMEND_DATE": None,
                "NUMBER_CHANGES": 0,
                "CAPITAL_AMOUNT": e.capital,
                "MAIN_BUSINESS_CODE": e.main_business_code,
                "MAIN_BUSINESS_NAME": e.main_business_name,
            },
            # "HOAdress" is misspelt in the real payloads too.
            "HOAdress": {
                "CityID": e.address.province_code,
                "CityName": PROVINCES[e.address.province_code],
                "DistrictID": None,
                "DistrictName": None,
                "WardID": e.address.ward_code,
                "WardName": None,
                "StreetNumber": None,
                "AddressFullText": e.address.detail,
            },
            "Representatives": [
                {
                    "FULL_NAME": rep.full_name.upper(),
                    "GENDER_ID": str(rep.sex),
                    "DATE_OF_BIRTH": rep.birth_date.strftime("%d/%m/%Y"),
                    "NATIONALITY_NAME": "Việt Nam",
                    "PERS_DOC_NO": rep.pin,
                    "PERS_DOC_NAME": "Căn cước công dân",
                    "PERS_DOC_ISSUE_DATE": None,
                    "PERS_DOC_ISSUE_PLACE": "Cục Cảnh sát QLHC về TTXH",
                    "PERS_DOC_EXPIRE_DATE": None,
                }
            ],
        }
    }


class BusinessRegistryApp:
    """WSGI app: GET /api/v1/doanh-nghiep/{mst}; optional API key, basic or OAuth2 auth."""

    def __init__(
        self,
        enterprises: Iterable[Enterprise] | None = None,
        *,
        api_key: str | None = None,
        basic: tuple[str, str] | None = None,
        oauth_client: tuple[str, str] | None = None,
        token_lifetime: int = 300,
    ) -> None:
        self.enterprises = {
            e.tax_code: e
            for e in (enterprises if enterprises is not None else generate_enterprises())
        }
        self.api_key = api_key
        self.basic = basic
        self.oauth_client = oauth_client
        self.token_lifetime = token_lifetime
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self.token_requests = 0
        self.requests: list[dict[str, str]] = []
        self.url_map = Map(
            [
                Rule("/api/v1/doanh-nghiep/<mst>", endpoint="enterprise", methods=["GET"]),
                Rule("/oauth/token", endpoint="token", methods=["POST"]),
            ]
        )

    def revoke_tokens(self) -> None:
        """Forget issued tokens (tests of the hub's token refresh)."""
        with self._lock:
            self._tokens.clear()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
        except Exception:  # noqa: BLE001 - any routing miss is a 404/405 for the demo
            response = _json({"code": "NOT_FOUND", "message": "Không có tài nguyên này"}, 404)
            return response(environ, start_response)
        if endpoint == "token":
            response = self._token(request)
        else:
            response = self._enterprise(request, values["mst"])
        return response(environ, start_response)

    def _basic_ok(self, request: Request, expected: tuple[str, str]) -> bool:
        auth = request.authorization
        return (
            auth is not None
            and auth.type == "basic"
            and hmac.compare_digest(auth.username or "", expected[0])
            and hmac.compare_digest(auth.password or "", expected[1])
        )

    def _token(self, request: Request) -> Response:
        if self.oauth_client is None:
            return _json({"error": "unsupported_grant_type"}, 400)
        if request.form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if not self._basic_ok(request, self.oauth_client):
            return _json({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
            self.token_requests += 1
        return _json(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}
        )

    def _authorised(self, request: Request) -> bool:
        if self.api_key is not None:
            given = request.headers.get("X-API-Key", "")
            if not hmac.compare_digest(given, self.api_key):
                return False
        if self.basic is not None and not self._basic_ok(request, self.basic):
            return False
        if self.oauth_client is not None:
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else ""
            with self._lock:
                expires = self._tokens.get(token)
            if expires is None or expires < time.monotonic():
                return False
        return True

    def _enterprise(self, request: Request, mst: str) -> Response:
        self.requests.append(
            {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        )
        if not self._authorised(request):
            return _json(
                {"code": "UNAUTHORIZED", "message": "Thiếu hoặc sai thông tin xác thực"},
                401,
                {"WWW-Authenticate": 'Bearer realm="dkkd"'},
            )
        if not is_valid_tax_code(mst):
            return _json({"code": "MST_KHONG_HOP_LE", "message": "Mã số thuế không hợp lệ"}, 400)
        enterprise = self.enterprises.get(mst)
        if enterprise is None:
            return _json({"code": "KHONG_TIM_THAY", "message": "Không tìm thấy doanh nghiệp"}, 404)
        return _json(enterprise_json(enterprise))


def basic_header(user: str, password: str) -> str:
    """Return an HTTP Basic Authorization header value (for demo clients)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
