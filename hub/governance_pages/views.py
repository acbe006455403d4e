"""The citizen's governance pages: "who used my data" on /account and the data-consent screen.

Consent screen contract (see docs/console.md): an agency app sends the citizen to
``GET /consent/data?client_id=…&dataset=…&purpose=…&fields=…&return_to=…&state=…``;
``return_to`` must equal one of the app's registered redirect URIs exactly. The hub shows
who asks, which fields, for which procedure and on which legal basis; "Đồng ý" records
the consent with the exact text shown and returns with ``consent=granted&consent_id=…``,
"Không đồng ý" returns with ``error=access_denied``. ``state`` is echoed back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Flask, request, session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from hub.errors import HubError, NotFoundError, ValidationError
from hub.governance import service
from hub.governance import store as governance_store
from hub.governance.models import DataAccess
from hub.governance_pages import messages, web
from hub.http import get_conn
from identity.accounts import store as account_store
from identity.accounts.models import Account
from identity.csrf import check_csrf
from identity.i18n import t
from identity.login import AccountSection, register_account_section
from identity.login.account import FLASH_KEY
from identity.login.views import error_page, hub_error_page
from identity.oauth import clients

bp = Blueprint("mydata", __name__, template_folder="templates")
bp.register_error_handler(HubError, hub_error_page)

SECTION = "data_access"
MAX_STATE = 512


# "Who used my data"


def _dataset_texts(conn: Any, dataset_ids: set[str]) -> dict[str, tuple[str, dict[str, str]]]:
    """dataset id → (title, field labels) in the request's language."""
    out = {}
    for dataset_id in dataset_ids:
        definition = web.definition_of(conn, dataset_id)
        title = web.text_of(definition.title) if definition else dataset_id
        out[dataset_id] = (title, web.field_labels(definition))
    return out


def load_section(conn: Any, account: Account) -> dict[str, Any]:
    """The data of the /account section: accesses to the citizen's data (and to the data of
    the organizations he represents), and his consents."""
    settings = web.settings()
    accesses = service.list_data_access(conn, settings=settings, account_id=account.id)
    organizations = service.list_organization_data_access(
        conn, settings=settings, account_id=account.id
    )
    consents = service.list_data_consents(conn, account.id)
    texts = _dataset_texts(
        conn,
        {a.dataset_id for a in accesses if a.dataset_id}
        | {a.dataset_id for o in organizations for a in o.accesses if a.dataset_id}
        | {c.dataset_id for c in consents},
    )
    names = web.procedure_names(conn)

    def fields_of(dataset_id: str | None, fields: tuple[str, ...]) -> list[str]:
        labels = texts.get(dataset_id or "", ("", {}))[1]
        return [labels.get(f, f) for f in fields]

    def rows_of(found: list[DataAccess]) -> list[dict[str, Any]]:
        return [
            {
                "at": a.at,
                "client": a.client_name or a.client_id or "",
                "dataset": (texts.get(a.dataset_id or "", (None, {}))[0] or a.dataset_title or "")
                if a.dataset_id
                else "",
                "purpose": a.purpose or "",
                "purpose_name": names.get(a.purpose or "") or a.purpose_name or "",
                "fields": fields_of(a.dataset_id, a.fields),
                "on_behalf": a.on_behalf,
                "official_id": a.official_id,
            }
            for a in found
        ]

    rows = rows_of(accesses)
    org_rows = [
        {"tax_code": o.tax_code, "name": o.name, "accesses": rows_of(o.accesses)}
        for o in organizations
    ]
    consent_rows = [
        {
            "id": c.id,
            "client": c.client_name or c.client_id,
            "dataset": texts.get(c.dataset_id, (c.dataset_id, {}))[0],
            "purpose": c.purpose,
            "purpose_name": names.get(c.purpose, ""),
            "fields": fields_of(c.dataset_id, c.fields),
            "granted_at": c.granted_at,
            "withdrawn_at": c.withdrawn_at,
            "text_shown": c.text_shown,
        }
        for c in consents
    ]
    return {"accesses": rows, "organizations": org_rows, "consents": consent_rows}


@bp.get("/account/data-access")
def data_access_page() -> Response:
    """The "who used my data" section on a page of its own."""
    login = web.current_login()
    if login is None:
        return web.to_login()
    conn = get_conn()
    account = account_store.get(conn, login.account_id)
    message = session.pop(FLASH_KEY, None)
    return web.page(
        "mydata/data_access.html",
        data=load_section(conn, account),
        message=t(message) if isinstance(message, str) else None,
    )


@bp.post("/account/data-consents/<consent_id>/withdraw")
def withdraw_consent(consent_id: str) -> Response:
    """Withdraw one of the citizen's data consents; the app's next call is refused."""
    check_csrf()
    login = web.current_login()
    if login is None:
        return web.to_login(next_path="/account")
    service.withdraw_data_consent(
        get_conn(), settings=web.settings(), account_id=login.account_id, consent_id=consent_id
    )
    session[FLASH_KEY] = "gov_consent_withdrawn"
    target = "/account/data-access" if request.form.get("from") == "page" else "/account"
    return web.back(target + f"#section-{SECTION}")


# The data-consent screen


@dataclass(frozen=True)
class ConsentAsk:
    """What an app asks the citizen to agree to, from the query (GET) or the form (POST)."""

    client_id: str
    dataset_id: str
    purpose: str
    fields: tuple[str, ...]
    return_to: str
    state: str

    @classmethod
    def parse(cls, source: MultiDict[str, str]) -> ConsentAsk:
        """Read the parameters (fields: repeated, or separated by spaces or commas)."""
        raw_fields: list[str] = []
        for value in source.getlist("fields"):
            raw_fields.extend(value.replace(",", " ").split())
        return cls(
            client_id=web.clean(source.get("client_id")),
            dataset_id=web.clean(source.get("dataset"), 64),
            purpose=web.clean(source.get("purpose"), 64),
            fields=tuple(web.words(f[:64] for f in raw_fields[:100])),
            return_to=(source.get("return_to") or "")[:2000],
            state=(source.get("state") or "")[:MAX_STATE],
        )

    def query(self) -> dict[str, str]:
        """The GET parameters that show this screen again."""
        params = {
            "client_id": self.client_id,
            "dataset": self.dataset_id,
            "purpose": self.purpose,
            "fields": " ".join(self.fields),
            "return_to": self.return_to,
        }
        if self.state:
            params["state"] = self.state
        return params

    def back_to_app(self, **params: str) -> Response:
        """Redirect to the (checked) return_to with params and the state added."""
        parts = urlsplit(self.return_to)
        query = parse_qsl(parts.query, keep_blank_values=True)
        query.extend(params.items())
        if self.state:
            query.append(("state", self.state))
        return web.back(urlunsplit(parts._replace(query=urlencode(query))))


def _checked_app(conn: Any, ask: ConsentAsk) -> tuple[str, Response | None]:
    """The app's name, or an error page when the app or its return address is unknown.

    Never redirects to an address that is not registered for the app (open redirect).
    """
    client = clients.find(conn, ask.client_id, settings=web.settings()) if ask.client_id else None
    if client is None:
        return "", error_page(t("gov_consent_unknown_app"), 400)
    if not ask.return_to or ask.return_to not in client.redirect_uris:
        return "", error_page(t("gov_consent_bad_return"), 400)
    return client.name, None


def consent_text(screen: dict[str, Any], *, owner: str, basis: str | None) -> str:
    """The exact consent text shown on the screen (and recorded with the consent)."""
    fields = ", ".join(
        f["label"] + (" " + t("gov_sensitive_mark") if f["sensitive"] else "")
        for f in screen["fields"]
    )
    text = t(
        "gov_consent_text",
        app=screen["client_name"],
        dataset=screen["dataset_label"],
        owner=owner,
        fields=fields,
        procedure=screen["purpose_name"],
        code=screen["purpose"],
    )
    if basis:
        text += " " + t("gov_consent_text_basis", basis=basis)
    return text + " " + t("gov_consent_text_withdraw")


def _screen(conn: Any, ask: ConsentAsk) -> tuple[dict[str, Any], str]:
    """What the screen shows and its consent text; ValidationError when the ask is invalid."""
    if not ask.dataset_id or not ask.purpose or not ask.fields:
        raise ValidationError(t("gov_consent_incomplete"))
    if governance_store.find_subject(conn, ask.dataset_id) is None:
        raise ValidationError(t("gov_consent_not_personal"))
    try:
        screen = service.consent_screen(
            conn,
            client_id=ask.client_id,
            dataset_id=ask.dataset_id,
            purpose=ask.purpose,
            fields=ask.fields,
        )
    except NotFoundError as exc:
        raise ValidationError(exc.detail) from exc
    if not screen["purpose_name"]:
        raise ValidationError(t("gov_consent_unknown_purpose"))
    definition = web.definition_of(conn, ask.dataset_id)
    labels = web.field_labels(definition)
    for f in screen["fields"]:
        f["label"] = labels.get(f["name"], f["name"])
    names = web.procedure_names(conn)
    screen["purpose_name"] = names.get(ask.purpose) or screen["purpose_name"]
    screen["dataset_label"] = web.text_of(definition.title) if definition else ask.dataset_id
    owner = definition.owner.name if definition else screen["owner_code"]
    screen["owner_name"] = owner
    # The app's grant states its own legal basis for receiving this dataset, if it has one.
    grant = governance_store.find_live_grant(conn, ask.client_id, ask.dataset_id)
    basis = grant.legal_basis if grant is not None else None
    screen["grant_basis"] = basis
    return screen, consent_text(screen, owner=owner, basis=basis)


@bp.get("/consent/data")
def consent_form() -> Response:
    """Ask the signed-in citizen to let an app receive some of his data for one procedure."""
    conn = get_conn()
    ask = ConsentAsk.parse(request.args)
    app_name, refused = _checked_app(conn, ask)
    if refused is not None:
        return refused
    login = web.current_login()
    if login is None:
        return web.to_login()
    try:
        screen, text = _screen(conn, ask)
    except ValidationError as exc:
        return ask.back_to_app(error="invalid_request", error_description=exc.detail)
    return web.page("mydata/consent.html", ask=ask, screen=screen, text=text, app_name=app_name)


@bp.post("/consent/data")
def consent_submit() -> Response:
    """Record the consent with the text shown ("allow"), or return with access_denied."""
    check_csrf()
    conn = get_conn()
    ask = ConsentAsk.parse(request.form)
    _, refused = _checked_app(conn, ask)
    if refused is not None:
        return refused
    login = web.current_login()
    if login is None:
        return web.to_login(next_path="/consent/data?" + urlencode(ask.query()))
    if request.form.get("decision") != "allow":
        return ask.back_to_app(error="access_denied")
    try:
        screen, text = _screen(conn, ask)
    except ValidationError as exc:
        return ask.back_to_app(error="invalid_request", error_description=exc.detail)
    consent = service.record_data_consent(
        conn,
        settings=web.settings(),
        account_id=login.account_id,
        client_id=ask.client_id,
        dataset_id=ask.dataset_id,
        purpose=ask.purpose,
        fields=[f["name"] for f in screen["fields"]],
        text_shown=text,
    )
    return ask.back_to_app(consent="granted", consent_id=consent.id)


def init_app(app: Flask) -> None:
    """Register the citizen's pages, the /account section and the governance page texts."""
    messages.install()
    web.init_app(app)
    app.register_blueprint(bp)
    register_account_section(
        AccountSection(
            name=SECTION, template="mydata/account_section.html", load=load_section, order=60
        )
    )
