"""Demo agency applications: small relying parties that sign citizens in through the hub.

One module, parametrised twice ("Cổng dịch vụ công tỉnh" and "Một cửa điện tử"), to show
single sign-on, step-up to level 2, acting for an organization and RP-initiated logout.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, abort, redirect, render_template, request, session, url_for
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

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
        scope="openid profile pid email phone",
        colour="#b71c1c",
        sector="dichvucong.demo.lgsp",
    ),
    DemoApp(
        key="one_stop",
        name="Một cửa điện tử",
        tagline="Tiếp nhận và trả kết quả hồ sơ tại bộ phận một cửa",
        client_id="demo-mot-cua-dien-tu",
        scope="openid profile",
        colour="#0d47a1",
        sector="motcua.demo.lgsp",
    ),
)

# Every scope a demo app may ask for (its own scope, plus "organization" on demand).
REGISTERED_SCOPES = ("openid", "profile", "pid", "email", "phone", "organization")

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
    web.jinja_env.globals.update(display=display, ordered=ordered, roles=ROLES)
    provider = oidc.Provider(config)
    web.extensions["demo_rp.provider"] = provider

    @web.get("/")
    def home() -> Any:
        user = session.get("user")
        if user is None and _may_try_silently() and request.args.get("sso") != "0":
            # Silent SSO check (OIDC Core §3.1.2.1 prompt=none): signed in at the hub
            # already means signed in here, with no password.
            return _start(scope=config.scope, prompt="none", silent=True)
        return render_template(
            "rp.html",
            app=app,
            user=user,
            labels=CLAIM_LABELS,
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
        session.clear()
        session["silent_tried"] = time.time()
        if not id_token:
            return redirect(url_for("home"))
        try:
            target = oidc.logout_url(provider, id_token=id_token, state=secrets.token_urlsafe(16))
        except (oidc.RelyingPartyError, OSError, ValueError):
            return redirect(url_for("home"))
        return redirect(target)

    @web.get("/signed-out")
    def signed_out() -> Any:
        session.clear()
        session["silent_tried"] = time.time()
        session["notice"] = "Bạn đã đăng xuất khỏi ứng dụng và khỏi LGSP Hub."
        return redirect(url_for("home"))

    return web


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
    """A threaded WSGI server bound now (port 0 picks a free one)."""
    return make_server(host, port, wsgi, threaded=True)


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
