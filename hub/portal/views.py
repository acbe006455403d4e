"""The developer portal: catalogue, a page per dataset, request access, my requests and apps.

The catalogue and dataset pages are public; asking for access needs a signed-in account
with the developer role (or an administrator) and an app it manages.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, request, session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from hub.datasets import service as datasets_service
from hub.datasets.views import runtime
from hub.errors import HubError, ValidationError
from hub.governance import service
from hub.governance.errors import RoleRequiredError
from hub.governance.models import ANY_PURPOSE, Principal
from hub.governance_pages import web
from hub.http import get_conn
from identity.csrf import check_csrf
from identity.i18n import current_language, t
from identity.login.views import hub_error_page
from identity.oauth import clients

bp = Blueprint("portal", __name__, url_prefix="/developers", template_folder="templates")
bp.register_error_handler(HubError, hub_error_page)

FLASH_KEY = "lgsp_portal_flash"


def _page(template: str, status: int = 200, **context: Any) -> Response:
    flash = session.pop(FLASH_KEY, None)
    return web.page(
        template, status, message=t(flash) if isinstance(flash, str) else None, **context
    )


@bp.get("")
def catalogue() -> Response:
    """Every enabled dataset with its owner and whether it holds personal data."""
    return _page(
        "portal/catalogue.html", datasets=datasets_service.catalogue(get_conn(), runtime=runtime())
    )


def _described(dataset_id: str) -> dict[str, Any]:
    return datasets_service.describe_dataset(get_conn(), runtime=runtime(), dataset_id=dataset_id)


@bp.get("/datasets/<dataset_id>")
def dataset(dataset_id: str) -> Response:
    """A dataset: description, fields (personal and sensitive marked), params, examples."""
    described = _described(dataset_id)
    schema = described["input_schema"]
    required = set(schema.get("required", ()))
    params = [
        {
            "name": name,
            "type": prop.get("format") or prop.get("type"),
            "required": name in required,
            "pattern": prop.get("pattern"),
            "description": prop.get("x-description-vi") if _vi() else prop.get("description"),
            "example": (prop.get("examples") or [None])[0],
        }
        for name, prop in schema.get("properties", {}).items()
    ]
    example = described["example"]
    return _page(
        "portal/dataset.html",
        ds=described,
        params=params,
        example_request=json.dumps(example["request"], ensure_ascii=False, indent=2),
        example_response=json.dumps(example["response"], ensure_ascii=False, indent=2),
    )


def _vi() -> bool:
    return current_language() == "vi"


def _developer() -> Principal | Response:
    login = web.current_login()
    if login is None:
        return web.to_login()
    principal = web.principal_of(login)
    if not (principal.is_admin or "developer" in principal.roles):
        raise RoleRequiredError(t("dev_need_role"))
    return principal


def _my_clients(principal: Principal) -> list[Any]:
    conn = get_conn()
    every = clients.list_clients(conn, settings=web.settings())
    if principal.is_admin:
        return every
    mine = set(service.describe_roles(conn, account_id=principal.account_id or "")["clients"])
    return [c for c in every if c.client_id in mine]


def _request_form(
    principal: Principal, dataset_id: str, status: int = 200, **context: Any
) -> Response:
    described = _described(dataset_id)
    return _page(
        "portal/request.html",
        status,
        ds=described,
        clients=_my_clients(principal),
        procedures=service.list_procedures(get_conn()),
        any_purpose=ANY_PURPOSE,
        form=context.pop("form", MultiDict()),
        error=context.pop("error", None),
    )


@bp.get("/datasets/<dataset_id>/request")
def request_form(dataset_id: str) -> Response:
    """The request-access form (signed-in developer)."""
    principal = _developer()
    if isinstance(principal, Response):
        return principal
    return _request_form(principal, dataset_id)


@bp.post("/datasets/<dataset_id>/request")
def request_submit(dataset_id: str) -> Response:
    """Submit an access request for one of the developer's apps; due in 2 working days."""
    check_csrf()
    principal = _developer()
    if isinstance(principal, Response):
        return principal
    form = request.form
    try:
        purposes = web.words(form.getlist("purposes"))
        if not purposes:
            raise ValidationError(t("con_pick_purposes"))
        fields = web.words(form.getlist("fields"))
        if not fields:
            raise ValidationError(t("con_pick_fields"))
        service.submit_access_request(
            get_conn(),
            actor=principal,
            settings=web.settings(),
            client_id=web.clean(form.get("client_id")),
            dataset_id=dataset_id,
            fields=fields,
            purposes=purposes,
            legal_basis=web.clean(form.get("legal_basis"), 2000),
            justification=web.clean(form.get("justification"), 5000),
            contact=web.clean(form.get("contact"), 254),
        )
    except ValidationError as exc:
        return _request_form(principal, dataset_id, 400, form=form, error=exc.detail)
    session[FLASH_KEY] = "dev_request_sent"
    return web.back("/developers/requests")


@bp.get("/requests")
def my_requests() -> Response:
    """The developer's requests with status, due date and overdue state."""
    principal = _developer()
    if isinstance(principal, Response):
        return principal
    found = service.list_access_requests(get_conn(), actor=principal)
    return _page("portal/requests.html", requests=found, now=service.utcnow())


@bp.get("/apps")
def my_apps() -> Response:
    """The apps the developer manages: what each may do, and a new secret on demand."""
    principal = _developer()
    if isinstance(principal, Response):
        return principal
    return _page("portal/apps.html", apps=[clients.describe(c) for c in _my_clients(principal)])


@bp.post("/apps/<client_id>/secret")
def rotate_secret(client_id: str) -> Response:
    """Replace an app's client secret; the new one is shown on this page only."""
    check_csrf()
    principal = _developer()
    if isinstance(principal, Response):
        return principal
    secret = service.rotate_client_secret(
        get_conn(), actor=principal, settings=web.settings(), client_id=client_id[:100]
    )
    response = _page(
        "portal/apps.html",
        apps=[clients.describe(c) for c in _my_clients(principal)],
        new_secret={"client_id": client_id, "secret": secret},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the developer portal."""
    app.register_blueprint(bp)
