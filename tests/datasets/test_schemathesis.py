"""Property-based run of schemathesis against /api/openapi.json, in-process over WSGI.

The catalogue, every dataset's query and the health checks are exercised with generated
positive and negative requests (bounded and derandomised, so the run is repeatable) against
the hub with the real demo ministries and a token carrying every dataset scope; the governed
run also exercises the citizen's /api/v1/me with a demo citizen's real ``my_data`` token.
Schemathesis's checks must all pass: no 5xx, a documented status, a documented content
type, a body valid against its schema, documented headers, schema-violating requests
refused.

Not fuzzed: the admin API (tag ``admin``, /api/admin/v1). Every operation there needs a
level-2 staff member's token with the right role, most of them change state (grants,
access-request decisions, roles, client secrets, holidays) so random calls would revoke or
rewrite what the other operations of the same run rely on, and on random ids they would
only exercise the same 404 again and again, at the cost of doubling the run. Their answers
are checked against the document with real data in test_openapi_public.py instead.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from connectors.demo.server import DemoMinistries
from hub.config import Settings
from hub.datasets.service import DatasetRuntime, load_demo_datasets
from hub.db import Database
from hub.governance import service as governance
from hub.governance.models import Principal
from hub.governance.policy import GovernancePolicy
from identity import demo_seed
from identity.accounts import store as accounts_store
from identity.oauth import clients
from tests.datasets.conftest import AN, PURPOSE, TokenFactory, query
from tests.governance.conftest import user_token

DATASETS = ("dan-cu", "doanh-nghiep", "bao-hiem-xa-hoi")
SCOPES = tuple(f"dataset:{d}" for d in DATASETS)
MAX_EXAMPLES = 50
# The operations without a body or query (health, /api/v1/me) have little to vary.
SMALL_MAX_EXAMPLES = 10
FUZZED_TAGS = ["catalogue", "datasets", "health"]
DATASET_LABELS = [
    "GET /api/v1/datasets",
    "GET /api/v1/datasets/{dataset_id}",
    *(f"POST /api/v1/datasets/{d}/query" for d in DATASETS),
    "GET /healthz",
    "GET /readyz",
]
ME_LABELS = [
    "GET /api/v1/me/data-access",
    "GET /api/v1/me/organizations/data-access",
    "GET /api/v1/me/data-consents",
    "POST /api/v1/me/data-consents/{consent_id}/withdraw",
]


def _acceptance_beyond_check_digits(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's positive_data_acceptance, except for check-digit refusals.

    A check digit (``x-check`` in the schema, e.g. a tax code's 10th digit) cannot be
    written as a JSON Schema pattern, so a pattern-valid value may still be refused with
    400 invalid_params naming only such fields; that is the documented contract.
    """
    if response.status_code == 400:
        body = json.loads(response.content or b"{}")
        errors = body.get("errors") or {}
        if (
            body.get("code") == "invalid_params"
            and errors
            and all(
                all("check digit" in message for message in messages)
                for messages in errors.values()
            )
        ):
            return None
    return positive_data_acceptance(ctx, response, case)


def _fuzz(app: Flask, token: str, *, citizen_token: str | None = None) -> dict[str, str]:
    """Run the operations' coverage and fuzzing phases; return the failures by operation.

    ``token`` is an app's token for the datasets; with ``citizen_token`` (a signed-in
    citizen's ``my_data`` token) the /api/v1/me operations are fuzzed too.
    """
    tags = [*FUZZED_TAGS, "me"] if citizen_token else FUZZED_TAGS
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(tag=tags)
    failures: dict[str, str] = {}
    labels = []

    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        me = "me" in (operation.tags or ())
        bearer = citizen_token if me else token
        small = me or "health" in (operation.tags or ())

        def call(case: Any, bearer: str | None = bearer) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {bearer}"},
                excluded_checks=[positive_data_acceptance],
                additional_checks=[_acceptance_beyond_check_digits],
            )

        # The coverage phase: deterministic boundary cases (missing and empty headers,
        # lengths at and past the limits, wrong types, unexpected methods).
        for case in schema.iter_coverage_cases(
            operation,
            generation_modes=list(GenerationMode),
            generation_config=schema.config.generation_for(operation=operation),
        ):
            try:
                call(case)
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.setdefault(f"{operation.label} [coverage]", str(exc))
        # The fuzzing phase: generated positive and negative cases.
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=SMALL_MAX_EXAMPLES if small else MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                call(case)

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                # Nothing to negate: no parameters and no body (the catalogue, health,
                # /api/v1/me), or only a path parameter that takes any string (a consent id).
                assert mode is GenerationMode.NEGATIVE
                assert all(
                    p.definition["schema"] == {"type": "string"} for p in operation.path_parameters
                )
            except (AssertionError, BaseExceptionGroup) as exc:  # every operation's failures
                failures[f"{operation.label} [{mode.value}]"] = str(exc)
    assert sorted(labels) == sorted([*DATASET_LABELS, *(ME_LABELS if citizen_token else [])])
    return failures


def _report(failures: dict[str, str]) -> str:
    return "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


def test_schemathesis_without_governance(hub: Flask, token_for: TokenFactory) -> None:
    failures = _fuzz(hub, token_for(*SCOPES))
    assert not failures, _report(failures)


@pytest.fixture
def governed(app: Flask, db: Database, settings: Settings, ministries: DemoMinistries) -> Flask:
    """The hub as create_app makes it by default: grants enforced, every query audited."""
    with db.transaction() as conn:
        load_demo_datasets(conn, overrides=ministries.env)
    app.extensions["lgsp.datasets"] = DatasetRuntime(
        env=ministries.env, policy=GovernancePolicy(db, settings)
    )
    return app


def _granted_token(app: Flask, db: Database, settings: Settings) -> str:
    """A client-credentials token of an agency app granted every demo dataset, any purpose."""
    with db.transaction() as conn:
        client, secret = clients.register_client(
            conn,
            settings=settings,
            name="Schemathesis agency app",
            grant_types=["client_credentials"],
            scopes=list(SCOPES),
            auth_method="client_secret_basic",
        )
        for dataset in DATASETS:
            governance.grant_access(
                conn,
                actor=Principal.operator("test"),
                settings=settings,
                client_id=client.client_id,
                dataset_id=dataset,
            )
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    response = app.test_client().post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": " ".join(SCOPES)},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    token: str = response.get_json()["access_token"]
    return token


def _citizen_token(db: Database, settings: Settings) -> str:
    """A demo citizen's token for /api/v1/me, as the authorization-code flow issues it."""
    with db.transaction() as conn:
        demo_seed.seed(conn)
        account = accounts_store.find_by_pin(conn, AN["so_dinh_danh"])
        assert account is not None
        client, _ = clients.register_client(
            conn,
            settings=settings,
            name="Cổng dịch vụ công",
            grant_types=["authorization_code"],
            scopes=["openid", "my_data"],
            redirect_uris=["https://portal.example.vn/callback"],
            auth_method="client_secret_basic",
        )
        governance.record_data_consent(
            conn,
            settings=settings,
            account_id=account.id,
            client_id=client.client_id,
            dataset_id="dan-cu",
            purpose=PURPOSE,
            fields=["full_name"],
            text_shown="Tôi đồng ý.",
        )
    return user_token(db, settings, client.client_id, account.id, "openid my_data")


def test_schemathesis_with_governance(governed: Flask, db: Database, settings: Settings) -> None:
    token = _granted_token(governed, db, settings)
    citizen = _citizen_token(db, settings)
    # The grant lets queries through governance (a found record, not a 403).
    answer = query(governed.test_client(), "dan-cu", AN, token=token, purpose=PURPOSE)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["status"] == "found"
    # The citizen sees that query in his data-access log, and his consent.
    me = {"Authorization": f"Bearer {citizen}"}
    log = governed.test_client().get("/api/v1/me/data-access", headers=me)
    assert log.status_code == 200 and log.get_json()["data_access"], log.get_data(as_text=True)
    failures = _fuzz(governed, token, citizen_token=citizen)
    assert not failures, _report(failures)


# Regressions for what schemathesis found.


@pytest.mark.parametrize("text", ["An\x00", "An\x07", "An\ufffe", "An\ud800"])
def test_params_with_control_characters_are_invalid_params_not_500(
    governed: Flask, db: Database, settings: Settings, text: str
) -> None:
    # zeep could not serialise them into the SOAP request, and the audit's jsonb refuses NUL:
    # both were a 500. Now they are the caller's problem, named per field, before any call.
    api = governed.test_client()
    token = _granted_token(governed, db, settings)
    response = api.post(
        "/api/v1/datasets/dan-cu/query",
        data=json.dumps({"params": {**AN, "ho_va_ten": text}}),  # \ud800 as an escape
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "X-Purpose": PURPOSE},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["code"], body["origin"]) == ("invalid_params", "client")
    assert list(body["errors"]) == ["ho_va_ten"]
    nested = query(api, "doanh-nghiep", {"ma_so_thue": ["0108888888\x00"]}, token=token)
    assert nested.status_code == 400
    assert list(nested.get_json()["errors"]) == ["ma_so_thue"]
    key = query(api, "doanh-nghiep", {"ma_so_thue\x00": "0108888888"}, token=token)
    assert key.status_code == 400
    assert list(key.get_json()["errors"]) == ["params"]
    # Tab, newline and every other Unicode text still reach the registry.
    fine = query(api, "dan-cu", {**AN, "ho_va_ten": "Nguyễn\tVăn An 𩛤"}, token=token)
    assert fine.status_code == 200 and fine.get_json()["status"] == "not_found"


def test_published_contract_matches_what_the_hub_accepts(hub: Flask) -> None:
    spec = hub.test_client().get("/api/openapi.json").get_json()
    parameters = spec["components"]["parameters"]
    # An X-Request-Id the hub does not like is replaced, never refused: no pattern.
    assert "pattern" not in parameters["RequestId"]["schema"]
    # An empty X-Official-Id counts as absent.
    assert re.search(parameters["OfficialId"]["schema"]["pattern"], "")
    # Text params hold no control characters (refused with invalid_params).
    params = spec["components"]["schemas"]["dan-cu.Params"]["properties"]
    assert re.search(params["ho_va_ten"]["pattern"], "Nguyễn Văn An")
    assert not re.search(params["ho_va_ten"]["pattern"], "An\x00")
    assert params["so_dinh_danh"]["pattern"] == "^[0-9]{12}$"
    assert params["so_dinh_danh"]["allOf"] == [{"pattern": params["ho_va_ten"]["pattern"]}]
    assert "pattern" not in params["ngay_sinh"] and "allOf" not in params["ngay_sinh"]
    # Governance refusals and the daily quota are documented answers of every query.
    responses = spec["paths"]["/api/v1/datasets/dan-cu/query"]["post"]["responses"]
    assert "purpose_not_permitted" in responses["403"]["description"]
    assert "Retry-After" in responses["429"]["headers"]


def test_odd_request_and_official_ids_are_accepted(hub: Flask, token_for: TokenFactory) -> None:
    token = token_for("dataset:bao-hiem-xa-hoi")
    response = query(
        hub.test_client(),
        "bao-hiem-xa-hoi",
        {"ma_so_bhxh": "0112345678"},
        token=token,
        **{"X-Request-Id": "m7", "X-Official-Id": ""},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Request-Id"] != "m7"


def test_birth_dates_before_year_1000_reach_the_registry_padded(
    hub: Flask, token_for: TokenFactory
) -> None:
    token = token_for("dataset:dan-cu")
    response = query(hub.test_client(), "dan-cu", {**AN, "ngay_sinh": "0999-01-01"}, token=token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "not_found"


def test_tax_code_with_a_wrong_check_digit_is_refused_by_the_hub(
    hub: Flask, token_for: TokenFactory
) -> None:
    token = token_for("dataset:doanh-nghiep")
    response = query(hub.test_client(), "doanh-nghiep", {"ma_so_thue": "0000000000"}, token=token)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "invalid_params" and "check digit" in body["errors"]["ma_so_thue"][0]
