"""Dataset definitions: parse and validate the YAML an administrator writes."""

from __future__ import annotations

import functools
import os.path
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from connectors.checks import CHECKS
from connectors.errors import DefinitionError

ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SNAKE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
ENV_REF_RE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}")
HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

PARAM_TYPES = ("string", "date", "integer")
FIELD_TYPES = ("string", "date", "integer", "number", "boolean", "enum", "object", "list")
CONTEXT_KEYS = ("request_id", "purpose", "calling_agency", "official_id")
AUTH_TYPES = ("api_key", "basic", "oauth2_client_credentials")
HTTP_METHODS = ("GET", "POST")
# Keys that would hold a secret in clear text; definitions name environment variables instead.
SECRET_KEYS = frozenset(
    {"password", "secret", "client_secret", "api_key", "key", "token", "username", "client_id"}
)
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-auth-token", "cookie"})


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese and English."""

    vi: str
    en: str

    def to_dict(self) -> dict[str, str]:
        """Return the YAML form."""
        return {"vi": self.vi, "en": self.en}


@dataclass(frozen=True)
class Owner:
    """The agency that owns the data."""

    code: str
    name: str

    def to_dict(self) -> dict[str, str]:
        """Return the YAML form."""
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True)
class Wsse:
    """WS-Security UsernameToken credentials, by environment-variable name."""

    username_env: str
    password_env: str

    def to_dict(self) -> dict[str, str]:
        """Return the YAML form."""
        return {"username_env": self.username_env, "password_env": self.password_env}


@dataclass(frozen=True)
class SoapUpstream:
    """A SOAP operation described by a WSDL."""

    wsdl: str
    operation: str
    service: str | None = None
    port: str | None = None
    address: str | None = None
    soap_headers: tuple[tuple[str, str], ...] = ()
    soap_header_namespace: str | None = None
    wsse: Wsse | None = None
    headers: tuple[tuple[str, str], ...] = ()
    strict: bool = True
    kind: str = "soap"

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {"kind": "soap", "wsdl": self.wsdl, "operation": self.operation}
        for key in ("service", "port", "address", "soap_header_namespace"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.soap_headers:
            out["soap_headers"] = dict(self.soap_headers)
        if self.wsse:
            out["wsse"] = self.wsse.to_dict()
        if self.headers:
            out["headers"] = dict(self.headers)
        if not self.strict:
            out["strict"] = False
        return out


@dataclass(frozen=True)
class RestAuth:
    """How a REST upstream authenticates the hub; secrets by environment-variable name."""

    type: str
    header: str = "X-API-Key"
    key_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    token_url: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    scope: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {"type": self.type}
        if self.type == "api_key":
            out.update(header=self.header, key_env=self.key_env)
        elif self.type == "basic":
            out.update(username_env=self.username_env, password_env=self.password_env)
        else:
            out.update(
                token_url=self.token_url,
                client_id_env=self.client_id_env,
                client_secret_env=self.client_secret_env,
            )
            if self.scope:
                out["scope"] = self.scope
        return out


@dataclass(frozen=True)
class RestUpstream:
    """A JSON-over-HTTP upstream."""

    base_url: str
    path: str
    method: str = "GET"
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    auth: RestAuth | None = None
    kind: str = "rest"

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {
            "kind": "rest",
            "base_url": self.base_url,
            "method": self.method,
            "path": self.path,
        }
        if self.query:
            out["query"] = dict(self.query)
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.auth:
            out["auth"] = self.auth.to_dict()
        return out


@dataclass(frozen=True)
class Param:
    """One input parameter of a dataset query."""

    name: str
    type: str = "string"
    required: bool = True
    pattern: str | None = None
    description: Text | None = None
    example: Any = None
    max_length: int | None = None
    check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {"type": self.type, "required": self.required}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.check is not None:
            out["check"] = self.check
        if self.max_length is not None:
            out["max_length"] = self.max_length
        if self.description is not None:
            out["description"] = self.description.to_dict()
        if self.example is not None:
            out["example"] = self.example
        return out


@dataclass(frozen=True)
class Field:
    """One output field: where it is in the upstream answer and what it becomes."""

    name: str
    path: str
    type: str = "string"
    values: tuple[tuple[str, str], ...] = ()
    fields: tuple[Field, ...] = ()
    join: tuple[str, ...] = ()
    personal: bool = False
    sensitive: bool = False
    description: Text | None = None

    @property
    def is_personal(self) -> bool:
        """True when this field or a nested one holds personal data."""
        return self.personal or self.sensitive or any(f.is_personal for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {"path": self.path, "type": self.type}
        if self.values:
            out["values"] = dict(self.values)
        if self.join:
            out["join"] = list(self.join)
        if self.fields:
            out["fields"] = {f.name: f.to_dict() for f in self.fields}
        if self.personal:
            out["personal"] = True
        if self.sensitive:
            out["sensitive"] = True
        if self.description is not None:
            out["description"] = self.description.to_dict()
        return out


@dataclass(frozen=True)
class NotFoundRule:
    """One way of recognising "no data" in an upstream answer."""

    path: str | None = None
    empty: bool = False
    equals: str | None = None
    http_status: int | None = None
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {}
        if self.path is not None:
            out["path"] = self.path
        if self.empty:
            out["empty"] = True
        if self.equals is not None:
            out["equals"] = self.equals
        if self.http_status is not None:
            out["http_status"] = self.http_status
        if self.fault is not None:
            out["fault"] = self.fault
        return out


@dataclass(frozen=True)
class ResponseSpec:
    """Where the record is in the answer, its fields, and how "no data" looks."""

    fields: tuple[Field, ...]
    root: str = ""
    not_found: tuple[NotFoundRule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {}
        if self.root:
            out["root"] = self.root
        if self.not_found:
            out["not_found"] = [r.to_dict() for r in self.not_found]
        out["fields"] = {f.name: f.to_dict() for f in self.fields}
        return out


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed to connect, to wait between bytes, and for the whole lookup."""

    connect: float = 2.0
    read: float = 5.0
    total: float = 8.0

    def to_dict(self) -> dict[str, float]:
        """Return the YAML form."""
        return {"connect": self.connect, "read": self.read, "total": self.total}


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed idempotent lookup is tried again."""

    attempts: int = 1
    backoff: float = 0.2
    idempotent: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        return {"attempts": self.attempts, "backoff": self.backoff, "idempotent": self.idempotent}


@dataclass(frozen=True)
class BreakerPolicy:
    """When the circuit breaker of the upstream opens and when it probes again."""

    failure_threshold: int = 5
    reset_seconds: float = 30.0
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {
            "failure_threshold": self.failure_threshold,
            "reset_seconds": self.reset_seconds,
        }
        if self.name:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class DatasetDefinition:
    """A validated dataset definition."""

    id: str
    title: Text
    description: Text
    owner: Owner
    upstream: SoapUpstream | RestUpstream
    params: tuple[Param, ...]
    request: tuple[tuple[str, str], ...]
    response: ResponseSpec
    version: str = "1"
    timeout: Timeout = field(default_factory=Timeout)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_ttl: float = 0
    cache_personal: bool = False
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    source: str = field(default="<text>", compare=False)

    @property
    def breaker_name(self) -> str:
        """Return the name of the circuit breaker this dataset's upstream uses."""
        return self.breaker.name or self.id

    @property
    def personal_fields(self) -> tuple[str, ...]:
        """Return the top-level output fields that hold personal data."""
        return tuple(f.name for f in self.response.fields if f.is_personal)

    @property
    def sensitive_fields(self) -> tuple[str, ...]:
        """Return the top-level output fields that hold sensitive personal data."""
        return tuple(f.name for f in self.response.fields if _any_sensitive(f))

    @functools.cached_property
    def field_names(self) -> tuple[str, ...]:
        """Return the names of the top-level output fields."""
        return tuple(f.name for f in self.response.fields)

    def param(self, name: str) -> Param:
        """Return the parameter called `name`."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolve(self, env: Mapping[str, str]) -> DatasetDefinition:
        """Return a copy with ${VAR} placeholders in upstream locations taken from `env`."""
        up = self.upstream
        if isinstance(up, SoapUpstream):
            new_up: SoapUpstream | RestUpstream = replace(
                up,
                wsdl=_substitute(up.wsdl, env, self.source, "upstream.wsdl"),
                address=_substitute(up.address, env, self.source, "upstream.address")
                if up.address
                else None,
            )
        else:
            auth = up.auth
            if auth is not None and auth.token_url:
                auth = replace(
                    auth,
                    token_url=_substitute(
                        auth.token_url, env, self.source, "upstream.auth.token_url"
                    ),
                )
            new_up = replace(
                up,
                base_url=_substitute(up.base_url, env, self.source, "upstream.base_url"),
                auth=auth,
            )
        return replace(self, upstream=new_up)

    def to_yaml(self) -> str:
        """Return YAML text (field order kept) that loads back into an equal definition."""
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form; load_definition_text of its dump gives an equal definition."""
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "title": self.title.to_dict(),
            "description": self.description.to_dict(),
            "owner": self.owner.to_dict(),
            "upstream": self.upstream.to_dict(),
            "params": {p.name: p.to_dict() for p in self.params},
            "request": dict(self.request),
            "response": self.response.to_dict(),
            "timeout": self.timeout.to_dict(),
            "retry": self.retry.to_dict(),
            "cache_ttl": self.cache_ttl,
            "breaker": self.breaker.to_dict(),
        }
        if self.cache_personal:
            out["cache_personal"] = True
        return out


def _any_sensitive(f: Field) -> bool:
    return f.sensitive or any(_any_sensitive(c) for c in f.fields)


def _substitute(value: str, env: Mapping[str, str], source: str, path: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise DefinitionError(source, path, f"environment variable {name} is not set")

    return ENV_REF_RE.sub(repl, value)


class _Reader:
    """Walks the raw YAML and raises DefinitionError naming the file and field path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> DefinitionError:
        return DefinitionError(self.source, path, message)

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping, not {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(path, f"keys must be strings, not {_kind(key)}")
            if key not in allowed:
                if key in SECRET_KEYS:
                    raise self.fail(
                        _join(path, key),
                        "literal credentials are not allowed; name an environment variable "
                        f"with {key}_env",
                    )
                raise self.fail(
                    _join(path, key), f"unknown key (expected one of: {', '.join(allowed)})"
                )
        return value

    def required(self, data: dict[str, Any], key: str, path: str) -> Any:
        if key not in data or data[key] is None:
            raise self.fail(_join(path, key), "required")
        return data[key]

    def string(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        *,
        required: bool = True,
        default: str | None = None,
    ) -> Any:
        if key not in data or data[key] is None:
            if required:
                raise self.fail(_join(path, key), "required")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(_join(path, key), f"must be a string, not {_kind(value)}")
        value = str(value)
        if required and not value.strip():
            raise self.fail(_join(path, key), "must not be empty")
        return value

    def boolean(self, data: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(_join(path, key), f"must be true or false, not {_kind(value)}")
        return value

    def number(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        default: float,
        *,
        minimum: float = 0,
        maximum: float | None = None,
        integer: bool = False,
    ) -> Any:
        value = data.get(key, default)
        wrong_type = not isinstance(value, (int, float)) or (integer and isinstance(value, float))
        if isinstance(value, bool) or wrong_type:
            kind = "an integer" if integer else "a number"
            raise self.fail(_join(path, key), f"must be {kind}, not {_kind(value)}")
        assert isinstance(value, (int, float))
        amount = value
        if amount < minimum:
            raise self.fail(_join(path, key), f"must be at least {minimum}")
        if maximum is not None and amount > maximum:
            raise self.fail(_join(path, key), f"must be at most {maximum}")
        return value

    def text(self, data: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
        if key not in data or data[key] is None:
            if required:
                raise self.fail(_join(path, key), "required")
            return None
        sub = self.mapping(data[key], _join(path, key), ("vi", "en"))
        return Text(
            vi=self.string(sub, "vi", _join(path, key)),
            en=self.string(sub, "en", _join(path, key)),
        )

    def env_name(self, data: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
        value = self.string(data, key, path, required=required)
        if value is not None and not ENV_NAME_RE.match(value):
            raise self.fail(
                _join(path, key),
                "must name an environment variable (UPPER_CASE letters, digits, _), "
                "never hold the secret itself",
            )
        return value

    def str_map(self, data: dict[str, Any], key: str, path: str) -> dict[str, str]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(_join(path, key), f"must be a mapping, not {_kind(value)}")
        out = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                raise self.fail(_join(path, key, str(k)), f"must be a string, not {_kind(v)}")
            out[str(k)] = str(v)
        return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def load_definition(path: str | os.PathLike[str]) -> DatasetDefinition:
    """Read, parse and validate a dataset definition file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(str(path), "", f"cannot read file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(str(path), "", "file is not UTF-8") from exc
    return load_definition_text(text, source=str(path), base_dir=str(p.resolve().parent))


def load_definition_text(
    text: str, *, source: str = "<text>", base_dir: str | None = None
) -> DatasetDefinition:
    """Parse and validate a dataset definition from YAML text (e.g. stored in the database)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(source, "", f"invalid YAML: {where}{problem}") from exc
    return parse_definition(data, source=source, base_dir=base_dir)


def parse_definition(
    data: Any, *, source: str = "<dict>", base_dir: str | None = None
) -> DatasetDefinition:
    """Validate an already-parsed definition mapping."""
    r = _Reader(source)
    top = r.mapping(
        data,
        "",
        (
            "id",
            "version",
            "title",
            "description",
            "owner",
            "upstream",
            "params",
            "request",
            "response",
            "timeout",
            "retry",
            "cache_ttl",
            "cache_personal",
            "breaker",
        ),
    )
    ds_id = r.string(top, "id", "")
    if not ID_RE.match(ds_id) or len(ds_id) > 64:
        raise r.fail("id", "must be a lowercase slug (a-z, 0-9, single hyphens), at most 64 long")
    version = r.string(top, "version", "", required=False, default="1")
    title = r.text(top, "title", "")
    description = r.text(top, "description", "")
    owner_raw = r.mapping(r.required(top, "owner", ""), "owner", ("code", "name"))
    owner = Owner(
        code=r.string(owner_raw, "code", "owner"), name=r.string(owner_raw, "name", "owner")
    )
    upstream = _parse_upstream(r, r.required(top, "upstream", ""), base_dir)
    params = _parse_params(r, r.required(top, "params", ""))
    request = _parse_request(r, top.get("request"), params, upstream)
    response = _parse_response(r, r.required(top, "response", ""))

    timeout_raw = r.mapping(top.get("timeout") or {}, "timeout", ("connect", "read", "total"))
    connect = r.number(timeout_raw, "connect", "timeout", 2.0, minimum=0.001, maximum=60)
    read = r.number(timeout_raw, "read", "timeout", 5.0, minimum=0.001, maximum=300)
    total = r.number(timeout_raw, "total", "timeout", connect + read + 1, maximum=600)
    if total < read:
        raise r.fail("timeout.total", "must be at least timeout.read")
    timeout = Timeout(connect=float(connect), read=float(read), total=float(total))

    default_idempotent = isinstance(upstream, SoapUpstream) or upstream.method == "GET"
    retry_raw = r.mapping(top.get("retry") or {}, "retry", ("attempts", "backoff", "idempotent"))
    idempotent = r.boolean(retry_raw, "idempotent", "retry", default_idempotent)
    attempts = r.number(
        retry_raw, "attempts", "retry", 1 if idempotent else 0, maximum=5, integer=True
    )
    if attempts and not idempotent:
        raise r.fail("retry.attempts", "must be 0 when the lookup is not idempotent")
    backoff = r.number(retry_raw, "backoff", "retry", 0.2, maximum=10)
    retry = RetryPolicy(attempts=attempts, backoff=float(backoff), idempotent=idempotent)

    cache_ttl = r.number(top, "cache_ttl", "", 0, maximum=86400)
    cache_personal = r.boolean(top, "cache_personal", "", False)
    if cache_ttl and not cache_personal and any(f.is_personal for f in response.fields):
        raise r.fail(
            "cache_ttl",
            "must be 0 for a dataset with personal fields unless cache_personal is true",
        )

    breaker_raw = r.mapping(
        top.get("breaker") or {}, "breaker", ("failure_threshold", "reset_seconds", "name")
    )
    breaker = BreakerPolicy(
        failure_threshold=r.number(
            breaker_raw, "failure_threshold", "breaker", 5, minimum=1, maximum=1000, integer=True
        ),
        reset_seconds=float(
            r.number(breaker_raw, "reset_seconds", "breaker", 30.0, minimum=0.001, maximum=3600)
        ),
        name=r.string(breaker_raw, "name", "breaker", required=False),
    )
    return DatasetDefinition(
        id=ds_id,
        version=version,
        title=title,
        description=description,
        owner=owner,
        upstream=upstream,
        params=params,
        request=request,
        response=response,
        timeout=timeout,
        retry=retry,
        cache_ttl=cache_ttl,
        cache_personal=cache_personal,
        breaker=breaker,
        source=source,
    )


def _check_location(r: _Reader, value: str, path: str, *, allow_file: bool) -> None:
    if "${" in value:
        stripped = ENV_REF_RE.sub("", value)
        if "${" in stripped:
            raise r.fail(path, "placeholder must look like ${UPPER_CASE_NAME} or ${NAME:-default}")
        return
    if value.startswith(("http://", "https://")):
        return
    if allow_file:
        return
    raise r.fail(path, "must be an http:// or https:// URL")


def _headers(r: _Reader, raw: dict[str, Any], path: str) -> tuple[tuple[str, str], ...]:
    headers = r.str_map(raw, "headers", path)
    for name in headers:
        if not HEADER_RE.match(name):
            raise r.fail(_join(path, "headers", name), "is not a valid HTTP header name")
        if name.lower() in SECRET_HEADERS:
            raise r.fail(
                _join(path, "headers", name),
                "credentials may not be written in the definition; use upstream.auth",
            )
    return tuple(headers.items())


def _parse_upstream(r: _Reader, raw: Any, base_dir: str | None) -> SoapUpstream | RestUpstream:
    path = "upstream"
    first = r.mapping(raw, path, tuple(raw) if isinstance(raw, dict) else ())
    kind = r.string(first, "kind", path)
    if kind == "soap":
        up = r.mapping(
            raw,
            path,
            (
                "kind",
                "wsdl",
                "operation",
                "service",
                "port",
                "address",
                "soap_headers",
                "soap_header_namespace",
                "wsse",
                "headers",
                "strict",
            ),
        )
        wsdl = r.string(up, "wsdl", path)
        _check_location(r, wsdl, "upstream.wsdl", allow_file=True)
        if (
            "${" not in wsdl
            and not wsdl.startswith(("http://", "https://", "file://"))
            and not os.path.isabs(wsdl)
            and base_dir is not None
        ):
            # A pinned WSDL lives next to the definition that names it.
            wsdl = os.path.normpath(os.path.join(base_dir, wsdl))
        address = r.string(up, "address", path, required=False)
        if address is not None:
            _check_location(r, address, "upstream.address", allow_file=False)
        soap_headers = r.str_map(up, "soap_headers", path)
        for key, target in soap_headers.items():
            if key not in CONTEXT_KEYS:
                raise r.fail(
                    _join(path, "soap_headers", key),
                    f"unknown context key (expected one of: {', '.join(CONTEXT_KEYS)})",
                )
            if not target.strip():
                raise r.fail(_join(path, "soap_headers", key), "must name a header element")
        wsse = None
        if up.get("wsse") is not None:
            w = r.mapping(up["wsse"], "upstream.wsse", ("username_env", "password_env"))
            wsse = Wsse(
                username_env=r.env_name(w, "username_env", "upstream.wsse"),
                password_env=r.env_name(w, "password_env", "upstream.wsse"),
            )
        return SoapUpstream(
            wsdl=wsdl,
            operation=r.string(up, "operation", path),
            service=r.string(up, "service", path, required=False),
            port=r.string(up, "port", path, required=False),
            address=address,
            soap_headers=tuple(soap_headers.items()),
            soap_header_namespace=r.string(up, "soap_header_namespace", path, required=False),
            wsse=wsse,
            headers=_headers(r, up, path),
            strict=r.boolean(up, "strict", path, True),
        )
    if kind == "rest":
        up = r.mapping(
            raw, path, ("kind", "base_url", "method", "path", "query", "headers", "auth")
        )
        base_url = r.string(up, "base_url", path)
        _check_location(r, base_url, "upstream.base_url", allow_file=False)
        method = r.string(up, "method", path, required=False, default="GET").upper()
        if method not in HTTP_METHODS:
            raise r.fail("upstream.method", f"must be one of: {', '.join(HTTP_METHODS)}")
        url_path = r.string(up, "path", path)
        if not url_path.startswith("/"):
            raise r.fail("upstream.path", "must start with /")
        auth = _parse_auth(r, up.get("auth"))
        return RestUpstream(
            base_url=base_url.rstrip("/"),
            method=method,
            path=url_path,
            query=tuple(r.str_map(up, "query", path).items()),
            headers=_headers(r, up, path),
            auth=auth,
        )
    raise r.fail("upstream.kind", "must be one of: soap, rest")


def _parse_auth(r: _Reader, raw: Any) -> RestAuth | None:
    if raw is None:
        return None
    path = "upstream.auth"
    first = r.mapping(
        raw, path, tuple(k for k in raw if k not in SECRET_KEYS) if isinstance(raw, dict) else ()
    )
    kind = r.string(first, "type", path)
    if kind == "api_key":
        a = r.mapping(raw, path, ("type", "header", "key_env"))
        header = r.string(a, "header", path, required=False, default="X-API-Key")
        if not HEADER_RE.match(header):
            raise r.fail("upstream.auth.header", "is not a valid HTTP header name")
        return RestAuth(type=kind, header=header, key_env=r.env_name(a, "key_env", path))
    if kind == "basic":
        a = r.mapping(raw, path, ("type", "username_env", "password_env"))
        return RestAuth(
            type=kind,
            username_env=r.env_name(a, "username_env", path),
            password_env=r.env_name(a, "password_env", path),
        )
    if kind == "oauth2_client_credentials":
        a = r.mapping(
            raw, path, ("type", "token_url", "client_id_env", "client_secret_env", "scope")
        )
        token_url = r.string(a, "token_url", path)
        _check_location(r, token_url, "upstream.auth.token_url", allow_file=False)
        return RestAuth(
            type=kind,
            token_url=token_url,
            client_id_env=r.env_name(a, "client_id_env", path),
            client_secret_env=r.env_name(a, "client_secret_env", path),
            scope=r.string(a, "scope", path, required=False),
        )
    raise r.fail("upstream.auth.type", f"must be one of: {', '.join(AUTH_TYPES)}")


def _parse_params(r: _Reader, raw: Any) -> tuple[Param, ...]:
    if not isinstance(raw, dict) or not raw:
        raise r.fail("params", "must be a non-empty mapping of parameter name to its description")
    out = []
    for name, spec in raw.items():
        path = _join("params", str(name))
        if not isinstance(name, str) or not SNAKE_RE.match(name):
            raise r.fail(path, "parameter names must be snake_case")
        p = r.mapping(
            spec,
            path,
            ("type", "required", "pattern", "description", "example", "max_length", "check"),
        )
        ptype = r.string(p, "type", path, required=False, default="string")
        if ptype not in PARAM_TYPES:
            raise r.fail(_join(path, "type"), f"must be one of: {', '.join(PARAM_TYPES)}")
        pattern = r.string(p, "pattern", path, required=False)
        if pattern is not None:
            if ptype != "string":
                raise r.fail(_join(path, "pattern"), "only string parameters take a pattern")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise r.fail(_join(path, "pattern"), f"invalid regular expression: {exc}") from exc
        check = r.string(p, "check", path, required=False)
        if check is not None and (ptype != "string" or check not in CHECKS):
            raise r.fail(
                _join(path, "check"),
                f"must be one of: {', '.join(CHECKS)} (and only on string parameters)",
            )
        max_length = p.get("max_length")
        if max_length is not None:
            max_length = r.number(p, "max_length", path, 0, minimum=1, integer=True)
        example = p.get("example")
        if example is not None:
            example = _check_example(r, _join(path, "example"), ptype, pattern, example)
        out.append(
            Param(
                name=name,
                type=ptype,
                required=r.boolean(p, "required", path, True),
                pattern=pattern,
                description=r.text(p, "description", path, required=False),
                example=example,
                max_length=max_length,
                check=check,
            )
        )
    return tuple(out)


def _check_example(r: _Reader, path: str, ptype: str, pattern: str | None, value: Any) -> Any:
    from datetime import date

    if ptype == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            date.fromisoformat(str(value))
        except ValueError as exc:
            raise r.fail(path, "must be a date YYYY-MM-DD") from exc
        return str(value)
    if ptype == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise r.fail(path, "must be an integer")
        return value
    value = str(value)
    if pattern is not None and not re.search(pattern, value):
        raise r.fail(path, f"does not match the parameter's pattern {pattern}")
    return value


def _parse_request(
    r: _Reader, raw: Any, params: tuple[Param, ...], upstream: SoapUpstream | RestUpstream
) -> tuple[tuple[str, str], ...]:
    names = {p.name for p in params}
    mapping = r.str_map({"request": raw}, "request", "") if raw is not None else {}
    for name, target in mapping.items():
        if name not in names:
            raise r.fail(_join("request", name), "is not a declared parameter")
        if not target.strip():
            raise r.fail(_join("request", name), "must name an upstream element or field")
    if isinstance(upstream, RestUpstream):
        for placeholder in re.findall(r"\{([^}]*)\}", upstream.path):
            if placeholder not in names:
                raise r.fail("upstream.path", f"placeholder {{{placeholder}}} is not a parameter")
        for qname, pname in upstream.query:
            if pname not in names:
                raise r.fail(_join("upstream.query", qname), f"{pname} is not a parameter")
        if upstream.method == "GET" and mapping:
            raise r.fail("request", "a GET upstream takes parameters from path and query only")
    elif not mapping:
        raise r.fail("request", "required for a SOAP upstream (parameter → request element)")
    return tuple(mapping.items())


FIELD_KEYS = ("path", "type", "values", "fields", "join", "personal", "sensitive", "description")


def _parse_fields(r: _Reader, raw: Any, path: str) -> tuple[Field, ...]:
    if not isinstance(raw, dict) or not raw:
        raise r.fail(path, "must be a non-empty mapping of field name to its description")
    out = []
    for name, spec in raw.items():
        fpath = _join(path, str(name))
        if not isinstance(name, str) or not SNAKE_RE.match(name):
            raise r.fail(fpath, "field names must be snake_case")
        f = r.mapping(spec, fpath, FIELD_KEYS)
        ftype = r.string(f, "type", fpath, required=False, default="string")
        if ftype not in FIELD_TYPES:
            raise r.fail(_join(fpath, "type"), f"must be one of: {', '.join(FIELD_TYPES)}")
        values: dict[str, str] = {}
        if ftype == "enum":
            values = r.str_map(f, "values", fpath)
            if not values:
                raise r.fail(_join(fpath, "values"), "an enum needs values (code → readable)")
        elif "values" in f:
            raise r.fail(_join(fpath, "values"), "only enum fields take values")
        children: tuple[Field, ...] = ()
        if ftype in ("object", "list"):
            if ftype == "object" or f.get("fields") is not None:
                children = _parse_fields(r, r.required(f, "fields", fpath), _join(fpath, "fields"))
        elif "fields" in f:
            raise r.fail(_join(fpath, "fields"), "only object and list fields take fields")
        join = f.get("join") or []
        if join:
            if ftype not in ("string", "date"):
                raise r.fail(_join(fpath, "join"), "only string and date fields take join")
            if not isinstance(join, list) or not all(isinstance(j, str) for j in join):
                raise r.fail(_join(fpath, "join"), "must be a list of paths")
            if ftype == "date" and len(join) != 3:
                raise r.fail(_join(fpath, "join"), "a date joins exactly 3 paths: year, month, day")
        out.append(
            Field(
                name=name,
                path=r.string(f, "path", fpath),
                type=ftype,
                values=tuple(values.items()),
                fields=children,
                join=tuple(join),
                personal=r.boolean(f, "personal", fpath, False),
                sensitive=r.boolean(f, "sensitive", fpath, False),
                description=r.text(f, "description", fpath, required=False),
            )
        )
    return tuple(out)


def _parse_response(r: _Reader, raw: Any) -> ResponseSpec:
    resp = r.mapping(raw, "response", ("root", "fields", "not_found"))
    rules = []
    nf_raw = resp.get("not_found") or []
    if not isinstance(nf_raw, list):
        raise r.fail("response.not_found", "must be a list of rules")
    for i, rule in enumerate(nf_raw):
        rpath = f"response.not_found.{i}"
        rr = r.mapping(rule, rpath, ("path", "empty", "equals", "http_status", "fault"))
        nf = NotFoundRule(
            path=r.string(rr, "path", rpath, required=False),
            empty=r.boolean(rr, "empty", rpath, False),
            equals=r.string(rr, "equals", rpath, required=False),
            http_status=r.number(rr, "http_status", rpath, 0, minimum=0, maximum=599, integer=True)
            or None,
            fault=r.string(rr, "fault", rpath, required=False),
        )
        if nf.path is not None and not (nf.empty or nf.equals is not None):
            raise r.fail(rpath, "a rule with a path needs empty: true or equals: VALUE")
        if nf.path is None and (nf.empty or nf.equals is not None):
            raise r.fail(_join(rpath, "path"), "required with empty or equals")
        if nf.path is None and nf.http_status is None and nf.fault is None:
            raise r.fail(rpath, "needs one of: path, http_status, fault")
        rules.append(nf)
    return ResponseSpec(
        root=r.string(resp, "root", "response", required=False, default=""),
        fields=_parse_fields(r, r.required(resp, "fields", "response"), "response.fields"),
        not_found=tuple(rules),
    )
