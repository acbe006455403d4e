"""Demo agency applications: small relying parties that sign citizens in through the hub.

One module, parametrised twice ("Cổng dịch vụ công tỉnh" and "Một cửa điện tử"), to show
single sign-on, step-up to level 2, acting for an organization, RP-initiated logout and
data governance end to end: the citizen asks for his own population-registry record, agrees
on the hub's data-consent screen, and the app queries the dataset on his behalf.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, redirect, render_template, request, session, url_for
from werkzeug.serving import BaseWSGIServer
from werkzeug.wrappers import Response

from connectors.demo.server import bind_server
from hub.demo_rp import oidc

LEVEL_2 = "urn:lgsp:loa:2"
SILENT_RETRY_SECONDS = 15


@dataclass(frozen=True)
class DemoApp:
    """One demo agency application: its identity at the hub and what it asks for."""

    key: str
    name: str
    tagline: str
    client_id: str
    scope: str
    colour: str
    sector: str


DEMO_APPS = (
    DemoApp(
        key="portal",
        name="Cổng dịch vụ công tỉnh",
        tagline="Nộp hồ sơ, tra cứu kết quả thủ tục hành chính trực tuyến",
        client_id="demo-cong-dich-vu-cong",
        scope="openid profile pid email phone dataset:dan-cu",
        colour="#b71c1c",
        sector="dichvucong.demo.lgsp",
    ),
    DemoApp(
        key="one_stop",
        name="Một cửa điện tử",
        tagline="Tiếp nhận và trả kết quả hồ sơ tại bộ phận một cửa",
        client_id="demo-mot-cua-dien-tu",
        scope="openid profile dataset:dan-cu",
        colour="#0d47a1",
        sector="motcua.demo.lgsp",
    ),
)

# The dataset the apps read on the citizen's behalf, for which procedure, and which fields.
DATASET = "dan-cu"
DATASET_SCOPE = f"dataset:{DATASET}"
DATA_PURPOSE = "1.001234"  # Đăng ký thường trú
DATA_FIELDS = ("full_name", "birth_date", "sex", "permanent_address")
DATA_RETURN_PATH = "/data-consent"

# Every scope a demo app may ask for (its own scope, plus "organization" on demand).
REGISTERED_SCOPES = ("openid", "profile", "pid", "email", "phone", "organization", DATASET_SCOPE)

CLAIM_LABELS = {
    "sub": "Mã định danh riêng cho ứng dụng (sub)",
    "name": "Họ và tên",
    "family_name": "Họ",
    "given_name": "Tên",
    "birthdate": "Ngày sinh",
    "gender": "Giới tính",
    "pid": "Số định danh cá nhân",
    "email": "Thư điện tử",
    "email_verified": "Thư điện tử đã xác minh",
    "phone_number": "Số điện thoại",
    "phone_number_verified": "Số điện thoại đã xác minh",
    "acr": "Mức độ định danh (acr)",
    "amr": "Phương thức xác thực (amr)",
    "auth_time": "Thời điểm xác thực",
    "org": "Tổ chức được làm thay",
    "iss": "Bên cấp (iss)",
    "aud": "Ứng dụng nhận (aud)",
}


CLAIM_ORDER = (
    "name",
    "birthdate",
    "gender",
    "pid",
    "email",
    "phone_number",
    "org",
    "sub",
    "acr",
    "amr",
    "auth_time",
)
ROLES = {"representative": "người đại diện theo pháp luật", "staff": "nhân viên được ủy quyền"}
AMR = {"pwd": "mật khẩu", "otp": "mã OTP", "mfa": "hai yếu tố"}
TIMES = ("auth_time", "iat", "exp", "nbf")


def display(key: str, value: Any) -> str:
    """A claim's value as a Vietnamese reader expects it (dates d/m/Y, sex, level, roles)."""
    if key == "gender":
        return {"male": "Nam", "female": "Nữ"}.get(str(value), str(value))
    if key == "acr" and isinstance(value, str) and value.startswith("urn:lgsp:loa:"):
        return f"Mức {value.rsplit(':', 1)[1]} ({value})"
    if key == "amr" and isinstance(value, list):
        return ", ".join(AMR.get(str(v), str(v)) for v in value)
    if key in TIMES and isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, tz=UTC)
        return moment.strftime("%d/%m/%Y %H:%M:%S UTC")
    if key == "birthdate" and isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}"
    if isinstance(value, dict) and "tax_code" in value:
        role = ROLES.get(str(value.get("role")), value.get("role"))
        return f"{value.get('name')} (mã số thuế {value.get('tax_code')}), vai trò: {role}"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


DATA_LABELS = {
    "pin": "Số định danh cá nhân",
    "old_id_number": "Số CMND 9 số",
    "full_name": "Họ và tên",
    "name": "Họ, chữ đệm và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "ethnicity": "Dân tộc",
    "religion": "Tôn giáo",
    "marital_status": "Tình trạng hôn nhân",
    "nationality": "Quốc tịch",
    "permanent_address": "Nơi thường trú",
    "current_address": "Nơi ở hiện tại",
    "hometown": "Quê quán",
    "birth_registration_place": "Nơi đăng ký khai sinh",
    "father": "Cha",
    "mother": "Mẹ",
    "spouse": "Vợ hoặc chồng",
    "phone": "Số điện thoại",
    "email": "Thư điện tử",
}
SEX = {"male": "Nam", "female": "Nữ", "unknown": "Không rõ"}
MARITAL = {"single": "Chưa kết hôn", "married": "Đã kết hôn", "divorced": "Đã ly hôn"}
MARITAL["widowed"] = "Góa"

# What the hub's problem codes mean for the citizen (docs/governance.md).
PROBLEMS = {
    "consent_required": "Chưa có sự đồng ý của bạn (hoặc bạn đã rút lại) cho ứng dụng này "
    "nhận dữ liệu dân cư cho thủ tục này.",
    "subject_mismatch": "Ứng dụng chỉ được nhận dữ liệu của chính bạn.",
    "insufficient_scope": "Lần đăng nhập này chưa cho phép ứng dụng đọc dữ liệu dân cư "
    "(thiếu phạm vi dataset:dan-cu). Hãy đăng xuất rồi đăng nhập lại.",
    "user_token_required": "Cần đăng nhập lại để ứng dụng truy vấn thay cho bạn.",
    "invalid_token": "Phiên làm việc với LGSP Hub đã hết hạn. Hãy đăng xuất rồi đăng nhập lại.",
    "not_permitted": "Ứng dụng chưa được cấp quyền khai thác bộ dữ liệu này.",
    "purpose_not_permitted": "Ứng dụng không được cấp quyền dùng dữ liệu cho thủ tục này.",
    "missing_purpose": "Yêu cầu thiếu mã thủ tục hành chính.",
    "level_required": "Cần đăng nhập ở mức độ định danh cao hơn.",
    "quota_exceeded": "Ứng dụng đã dùng hết hạn mức truy vấn trong ngày. Hãy thử lại sau.",
    "dataset_disabled": "Bộ dữ liệu đang tạm ngừng khai thác.",
    "dataset_unavailable": "Bộ dữ liệu hiện không sẵn sàng.",
    "unknown_dataset": "LGSP Hub không có bộ dữ liệu này.",
    "invalid_params": "Thông tin tra cứu không hợp lệ.",
    "upstream_unavailable": "Hệ thống của cơ quan quản lý dữ liệu tạm thời không phản hồi. "
    "Hãy thử lại sau.",
    "audit_unavailable": "LGSP Hub tạm thời không ghi được nhật ký truy cập nên chưa trả dữ "
    "liệu. Hãy thử lại sau.",
}
for _code in ("upstream_timeout", "upstream_fault", "upstream_invalid_response", "circuit_open"):
    PROBLEMS[_code] = PROBLEMS["upstream_unavailable"]


def display_data(key: str, value: Any) -> str:
    """A population-registry field as a Vietnamese reader expects it."""
    if value is None or value == "" or value == {}:
        return "(không có)"
    if key == "sex":
        return SEX.get(str(value), str(value))
    if key == "marital_status":
        return MARITAL.get(str(value), str(value))
    if key == "birth_date":
        return display("birthdate", value)
    if isinstance(value, dict) and "full_name" in value:  # a relative
        pin = f" (số định danh {value['pin']})" if value.get("pin") else ""
        return f"{value.get('full_name')}{pin}"
    if isinstance(value, dict) and key == "name":
        names = (value.get("family_name"), value.get("middle_name"), value.get("given_name"))
        return " ".join(str(n) for n in names if n)
    if isinstance(value, dict):  # an address: its written form, else its administrative codes
        if value.get("detail"):
            return str(value["detail"])
        parts: list[str] = []
        for code, label in (
            ("ward_code", "mã phường/xã"),
            ("district_code", "mã quận/huyện"),
            ("province_code", "mã tỉnh/thành phố"),
        ):
            if value.get(code):
                parts.append(f"{label} {value[code]}")
        if value.get("country") and value["country"] not in ("VN", "VNM"):
            parts.append(str(value["country"]))
        return ", ".join(parts) or "(không có)"
    return display(key, value)


def problem_message(exc: oidc.ProblemError) -> str:
    """A clear Vietnamese sentence for an API refusal, with its code for the help desk."""
    known = PROBLEMS.get(exc.code)
    what = known or str(exc.problem.get("detail") or exc.problem.get("title") or "lỗi không rõ")
    ref = f"mã lỗi {exc.code}, " if exc.code else ""
    request_id = exc.problem.get("request_id")
    ref += f"HTTP {exc.status}" + (f", mã yêu cầu {request_id}" if request_id else "")
    return f"Không lấy được dữ liệu dân cư: {what} ({ref})."


class Vault:
    """Per-browser secrets kept on the server (the access token, the data received).

    The session cookie is only signed, so it holds a random key into this store rather than
    the citizen's access token or his registry record.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, key: str | None) -> dict[str, Any]:
        with self._lock:
            return dict(self._items.get(key or "", {}))

    def update(self, key: str, **values: Any) -> None:
        with self._lock:
            self._items.setdefault(key, {}).update(values)
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop(self, key: str | None) -> None:
        with self._lock:
            self._items.pop(key or "", None)


def data_return_uri(redirect_uri: str) -> str:
    """The app's second registered redirect URI, where the data-consent screen returns."""
    return redirect_uri.rsplit("/", 1)[0] + DATA_RETURN_PATH


def ordered(claims: dict[str, Any]) -> list[tuple[str, Any]]:
    """Claims in reading order: the person first, protocol details last."""
    rank = {key: i for i, key in enumerate(CLAIM_ORDER)}
    return sorted(claims.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def client_secret(seed: str, client_id: str) -> str:
    """A 256-bit client secret derived from the demo's secret key (stable across restarts)."""
    digest = hmac.new(seed.encode(), f"demo-rp:{client_id}".encode(), hashlib.sha256).digest()
    return digest.hex()


def create_rp_app(app: DemoApp, config: oidc.ClientConfig, *, secret_key: str) -> Flask:
    """The Flask application of one demo agency app."""
    web = Flask(f"hub.demo_rp.{app.key}", static_folder=None)
    web.template_folder = "templates"
    web.root_path = __path__[0]
    web.config.update(
        SECRET_KEY=hashlib.sha256(f"{secret_key}:{app.key}".encode()).hexdigest(),
        # The hub and the demo apps share a host: each keeps its own cookie name.
        SESSION_COOKIE_NAME=f"demo_rp_{app.key}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.redirect_uri.startswith("https://"),
    )
    web.jinja_env.globals.update(
        display=display, display_data=display_data, ordered=ordered, roles=ROLES
    )
    provider = oidc.Provider(config)
    web.extensions["demo_rp.provider"] = provider
    vault = Vault()
    web.extensions["demo_rp.vault"] = vault

    @web.get("/")
    def home() -> Any:
        user = session.get("user")
        if user is None and _may_try_silently() and request.args.get("sso") != "0":
            # Silent SSO check (OIDC Core §3.1.2.1 prompt=none): signed in at the hub
            # already means signed in here, with no password.
            return _start(scope=config.scope, prompt="none", silent=True)
        held = vault.get(session.get("vault")) if user is not None else {}
        return render_template(
            "rp.html",
            app=app,
            user=user,
            labels=CLAIM_LABELS,
            data_labels=DATA_LABELS,
            dataset=held.get("dataset"),
            can_query=DATASET_SCOPE in str(user.get("scope", "")).split() if user else False,
            notice=session.pop("notice", None),
            error=session.pop("error", None),
            csrf=_csrf(),
        )

    @web.post("/login")
    def login() -> Any:
        _check_csrf()
        kind = request.form.get("kind", "")
        if kind == "level2":
            return _start(scope=config.scope, acr_values=LEVEL_2)
        if kind == "organization":
            return _start(scope=f"{config.scope} organization")
        return _start(scope=config.scope)

    def _start(*, scope: str, silent: bool = False, sso: bool = False, **extra: str) -> Response:
        try:
            auth = oidc.authorization_request(provider, scope=scope, **extra)
        except (oidc.RelyingPartyError, OSError, ValueError) as exc:
            session["silent_tried"] = time.time()
            session["error"] = f"Không kết nối được LGSP Hub: {exc}"
            return redirect(url_for("home", sso="0"))
        session["pending"] = {
            "state": auth.state,
            "nonce": auth.nonce,
            "verifier": auth.code_verifier,
            "silent": silent,
            # Reached through the hub's existing session (no password asked by this app).
            "sso": silent or sso,
        }
        return redirect(auth.url)

    @web.get("/callback")
    def callback() -> Any:
        pending = session.pop("pending", None)
        session["silent_tried"] = time.time()
        if not pending or request.args.get("state") != pending["state"]:
            session["error"] = "Phản hồi đăng nhập không khớp với yêu cầu (state). Hãy thử lại."
            return redirect(url_for("home"))
        try:
            oidc.check_response_issuer(provider, request.args.get("iss"))
        except oidc.RelyingPartyError as exc:
            session["error"] = f"Phản hồi bị từ chối: {exc}"
            return redirect(url_for("home"))
        error = request.args.get("error")
        if error:
            if pending["silent"] and error in ("consent_required", "interaction_required"):
                # Signed in at the hub, but this app still needs the citizen's consent.
                return _start(scope=config.scope, sso=True)
            if error == "access_denied":
                session["error"] = "Bạn đã không đồng ý chia sẻ thông tin với ứng dụng này."
            elif not (pending["silent"] and error == "login_required"):
                session["error"] = (
                    f"LGSP Hub trả về lỗi: {error} {request.args.get('error_description', '')}"
                )
            return redirect(url_for("home"))
        try:
            tokens = oidc.exchange_code(
                provider, code=request.args.get("code", ""), code_verifier=pending["verifier"]
            )
            claims = oidc.verify_id_token(provider, tokens["id_token"], nonce=pending["nonce"])
            userinfo = oidc.fetch_userinfo(provider, tokens["access_token"], sub=claims["sub"])
        except (oidc.RelyingPartyError, OSError, ValueError, KeyError) as exc:
            session["error"] = f"Không hoàn tất được đăng nhập: {exc}"
            return redirect(url_for("home"))
        session["user"] = {
            "id_token_claims": claims,
            "userinfo": userinfo,
            "scope": tokens.get("scope", ""),
            "via_sso": pending.get("sso", False),
        }
        session["id_token"] = tokens["id_token"]
        vault.drop(session.get("vault"))
        session["vault"] = secrets.token_urlsafe(24)
        vault.update(session["vault"], access_token=tokens["access_token"])
        session["notice"] = (
            "Đã đăng nhập tự động nhờ phiên đăng nhập chung (SSO) của LGSP Hub."
            if pending.get("sso")
            else "Đăng nhập thành công."
        )
        return redirect(url_for("home"))

    @web.post("/logout")
    def logout() -> Any:
        _check_csrf()
        id_token = session.get("id_token")
        vault.drop(session.get("vault"))
        session.clear()
        session["silent_tried"] = time.time()
        if not id_token:
            return redirect(url_for("home"))
        try:
            target = oidc.logout_url(provider, id_token=id_token, state=secrets.token_urlsafe(16))
        except (oidc.RelyingPartyError, OSError, ValueError):
            return redirect(url_for("home"))
        return redirect(target)

    @web.post("/my-data")
    def my_data() -> Any:
        """Send the citizen to the hub's data-consent screen for his population record."""
        _check_csrf()
        if session.get("user") is None:
            session["error"] = "Hãy đăng nhập trước khi lấy dữ liệu dân cư."
            return redirect(url_for("home", sso="0"))
        state = secrets.token_urlsafe(24)
        session["data_pending"] = state
        params = {
            "client_id": config.client_id,
            "dataset": DATASET,
            "purpose": DATA_PURPOSE,
            "fields": " ".join(DATA_FIELDS),
            "return_to": data_return_uri(config.redirect_uri),
            "state": state,
        }
        return redirect(f"{config.issuer}/consent/data?{urlencode(params)}")

    @web.get(DATA_RETURN_PATH)
    def data_consent() -> Any:
        """Back from the consent screen: query the dataset on the citizen's behalf."""
        pending = session.pop("data_pending", None)
        if not pending or not hmac.compare_digest(str(pending), request.args.get("state", "")):
            session["error"] = "Phản hồi đồng ý không khớp với yêu cầu (state). Hãy thử lại."
            return redirect(url_for("home", sso="0"))
        key = session.get("vault")
        token = vault.get(key).get("access_token")
        if session.get("user") is None or not key or not token:
            session["error"] = "Phiên đăng nhập đã kết thúc. Hãy đăng nhập lại."
            return redirect(url_for("home", sso="0"))
        error = request.args.get("error")
        if error == "access_denied":
            session["error"] = "Bạn đã không đồng ý chia sẻ dữ liệu dân cư với ứng dụng này."
            return redirect(url_for("home"))
        if error or request.args.get("consent") != "granted":
            detail = request.args.get("error_description") or error or "không rõ"
            session["error"] = f"LGSP Hub không ghi nhận được sự đồng ý: {detail}"
            return redirect(url_for("home"))
        try:
            answer = oidc.query_dataset(provider, token, dataset=DATASET, purpose=DATA_PURPOSE)
        except oidc.ProblemError as exc:
            web.logger.info("dataset query refused: %s", exc)
            session["error"] = problem_message(exc)
            return redirect(url_for("home"))
        except (oidc.RelyingPartyError, OSError, ValueError) as exc:
            session["error"] = f"Không kết nối được LGSP Hub để lấy dữ liệu: {exc}"
            return redirect(url_for("home"))
        data = answer.get("data")
        meta = answer.get("meta") or {}
        vault.update(
            key,
            dataset={
                "found": bool(data),
                "fields": ordered_data(data if isinstance(data, dict) else {}),
                "withheld": [str(f) for f in meta.get("fields_withheld") or []],
                "purpose": DATA_PURPOSE,
                "request_id": meta.get("request_id") or answer.get("request_id"),
            },
        )
        session["notice"] = (
            "Đã nhận dữ liệu dân cư của bạn từ LGSP Hub."
            if data
            else "LGSP Hub không tìm thấy bản ghi dân cư của bạn."
        )
        return redirect(url_for("home"))

    @web.get("/signed-out")
    def signed_out() -> Any:
        vault.drop(session.get("vault"))
        session.clear()
        session["silent_tried"] = time.time()
        session["notice"] = "Bạn đã đăng xuất khỏi ứng dụng và khỏi LGSP Hub."
        return redirect(url_for("home"))

    return web


def ordered_data(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """Registry fields in the dataset's reading order (the labels' order), others after."""
    rank = {key: i for i, key in enumerate(DATA_LABELS)}
    return sorted(data.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _may_try_silently() -> bool:
    # Ask the hub again now and then: the citizen may have signed in elsewhere since.
    return time.time() - float(session.get("silent_tried") or 0) > SILENT_RETRY_SECONDS


def _csrf() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "CSRF token missing or wrong")


@dataclass
class RunningApp:
    """A demo app served on a background thread."""

    app: DemoApp
    url: str
    client_id: str
    client_secret: str
    server: BaseWSGIServer
    thread: threading.Thread


def bind(host: str, port: int, wsgi: Any) -> BaseWSGIServer:
    """A threaded WSGI server bound now (port 0 picks a free one; OSError when taken)."""
    return bind_server(host, port, wsgi)


class _Deferred:
    """A WSGI callable whose application is set after the socket is bound."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@contextmanager
def serving(
    app: DemoApp,
    *,
    host: str,
    port: int,
    issuer: str,
    secret_key: str,
    backchannel_base: str | None = None,
) -> Iterator[RunningApp]:
    """Serve one demo app on host:port (a free port when taken or 0) until the block ends."""
    deferred = _Deferred()
    try:
        server = bind(host, port, deferred)
    except OSError:
        server = bind(host, 0, deferred)
    url = f"http://{_url_host(host)}:{server.server_port}"
    secret = client_secret(secret_key, app.client_id)
    config = oidc.ClientConfig(
        issuer=issuer,
        client_id=app.client_id,
        client_secret=secret,
        redirect_uri=f"{url}/callback",
        post_logout_redirect_uri=f"{url}/signed-out",
        scope=app.scope,
        backchannel_base=backchannel_base,
    )
    deferred.app = create_rp_app(app, config, secret_key=secret_key)
    thread = threading.Thread(target=server.serve_forever, name=f"demo-rp-{app.key}", daemon=True)
    thread.start()
    try:
        yield RunningApp(
            app=app,
            url=url,
            client_id=app.client_id,
            client_secret=secret,
            server=server,
            thread=thread,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
