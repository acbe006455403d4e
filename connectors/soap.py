"""SOAP upstreams through zeep, with hardened XML, bounded HTTP and typed errors."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.helpers import serialize_object
from zeep.wsdl import Document
from zeep.wsse.username import UsernameToken

from connectors.base import Context, UpstreamClient
from connectors.definition import DatasetDefinition, SoapUpstream, Timeout
from connectors.errors import (
    ConnectorError,
    DefinitionError,
    UpstreamFaultError,
    UpstreamInvalidResponseError,
    UpstreamUnavailableError,
)
from connectors.http import (
    MAX_RESPONSE_BYTES,
    UpstreamAnswer,
    bounded_post,
    bounded_request,
    make_session,
)
from connectors.mapping import map_response, set_path

WSDL_LOAD_TIMEOUT = 10.0
_XML_ERRORS: tuple[type[Exception], ...] = (
    zeep.exceptions.DTDForbidden,
    zeep.exceptions.EntitiesForbidden,
    zeep.exceptions.ExternalReferenceForbidden,
    zeep.exceptions.XMLSyntaxError,
    zeep.exceptions.XMLParseError,
    zeep.exceptions.UnexpectedElementError,
    zeep.exceptions.ValidationError,
    etree.XMLSyntaxError,
)

_WSDL_ERRORS: tuple[type[Exception], ...] = (*_XML_ERRORS, zeep.exceptions.Error)


def hardened_settings(strict: bool = True) -> zeep.Settings:
    """Return zeep settings that refuse DTDs, entities, external fetches and huge trees."""
    return zeep.Settings(
        strict=strict,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )


class BoundedTransport(zeep.Transport):
    """A zeep transport whose POSTs obey connect/read timeouts, a deadline and a size cap."""

    def __init__(
        self,
        *,
        session: requests.Session,
        connect: float,
        read: float,
        max_bytes: int = MAX_RESPONSE_BYTES,
        load_timeout: float = WSDL_LOAD_TIMEOUT,
    ) -> None:
        super().__init__(timeout=load_timeout, operation_timeout=(connect, read), session=session)
        self.connect = connect
        self.read = read
        self.max_bytes = max_bytes
        # The deadline is per call; threads share the transport, so keep it thread-local.
        self._local = threading.local()

    def set_deadline(self, deadline: float | None) -> None:
        """Set the deadline (time.monotonic) for the calls of the current thread."""
        self._local.deadline = deadline

    def post(self, address: str, message: Any, headers: Any) -> UpstreamAnswer:
        """POST the envelope with bounded time and size."""
        deadline = getattr(self._local, "deadline", None) or time.monotonic() + self.read
        self._local.status = None
        response = bounded_post(
            self.session,
            address,
            data=message,
            headers=headers,
            connect=self.connect,
            read=self.read,
            deadline=deadline,
            max_bytes=self.max_bytes,
            upstream=address,
        )
        self._local.status = response.status_code
        return response

    def last_status(self) -> int | None:
        """Return the HTTP status of the current thread's last POST."""
        return getattr(self._local, "status", None)

    def _load_remote_data(self, url: str) -> bytes:
        # A WSDL and the schemas it imports share one deadline when one is set.
        deadline = getattr(self._local, "deadline", None) or time.monotonic() + self.load_timeout
        response = bounded_request(
            self.session,
            "GET",
            url,
            connect=self.connect,
            read=self.read,
            deadline=deadline,
            max_bytes=8 * self.max_bytes,
            upstream=url,
        )
        if response.status_code != 200:
            raise UpstreamUnavailableError(
                f"Loading {url} answered HTTP {response.status_code}.",
                upstream=url,
                status=response.status_code,
            )
        return response.content


_WSDL_CACHE: dict[tuple[str, bool], Document] = {}
_WSDL_LOCK = threading.Lock()
_LOADER_SESSION = make_session(pool_size=4)


def clear_wsdl_cache() -> None:
    """Forget every loaded WSDL (tests, or after an upstream republishes its contract)."""
    with _WSDL_LOCK:
        _WSDL_CACHE.clear()


def load_wsdl(
    location: str,
    *,
    strict: bool = True,
    source: str = "<definition>",
    timeout: Timeout | None = None,
) -> Document:
    """Load and parse a WSDL once per process (URL or local file), with hardened settings,
    within `timeout` (a dataset's connect/read timeouts and total budget for the whole load)."""
    key = (location, strict)
    with _WSDL_LOCK:
        cached = _WSDL_CACHE.get(key)
    if cached is not None:
        return cached
    if timeout is None:
        timeout = Timeout(
            connect=WSDL_LOAD_TIMEOUT / 2, read=WSDL_LOAD_TIMEOUT, total=WSDL_LOAD_TIMEOUT
        )
    transport = BoundedTransport(
        session=_LOADER_SESSION,
        connect=timeout.connect,
        read=timeout.read,
        load_timeout=timeout.total,
    )
    transport.set_deadline(time.monotonic() + timeout.total)
    try:
        document = Document(location, transport, settings=hardened_settings(strict))  # type: ignore[arg-type]
    except ConnectorError as exc:
        raise UpstreamUnavailableError(
            f"The WSDL at {location} could not be loaded: {exc.message}", upstream=location
        ) from exc
    except FileNotFoundError as exc:
        raise DefinitionError(source, "upstream.wsdl", f"file not found: {location}") from exc
    except (OSError, ValueError) as exc:
        raise DefinitionError(source, "upstream.wsdl", f"cannot read {location}: {exc}") from exc
    except _WSDL_ERRORS as exc:
        raise DefinitionError(
            source, "upstream.wsdl", f"{location} is not a valid WSDL: {exc}"
        ) from exc
    with _WSDL_LOCK:
        _WSDL_CACHE.setdefault(key, document)
        return _WSDL_CACHE[key]


class SoapClient(UpstreamClient):
    """Calls one operation of a SOAP service described by a WSDL."""

    def __init__(
        self,
        definition: DatasetDefinition,
        *,
        env: Mapping[str, str],
        session: requests.Session | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        up = definition.upstream
        assert isinstance(up, SoapUpstream)
        self.definition = definition
        self.upstream = up
        self._session = session or make_session()
        for name, value in up.headers:
            self._session.headers[name] = value
        self.transport = BoundedTransport(
            session=self._session,
            connect=definition.timeout.connect,
            read=definition.timeout.read,
            max_bytes=max_bytes,
        )
        self._wsse = None
        if up.wsse is not None:
            self._wsse = UsernameToken(
                _require_env(env, up.wsse.username_env, definition, "upstream.wsse.username_env"),
                _require_env(env, up.wsse.password_env, definition, "upstream.wsse.password_env"),
            )
        self._lock = threading.Lock()
        self._service: Any = None
        self._address: str = up.address or up.wsdl

    @property
    def source(self) -> str:
        """Return the endpoint address."""
        return self._address

    def needs_upstream(self) -> bool:
        """Return True if binding the operation would fetch the WSDL from the upstream now."""
        if self._service is not None:
            return False
        up = self.upstream
        with _WSDL_LOCK:
            cached = (up.wsdl, up.strict) in _WSDL_CACHE
        return not cached and up.wsdl.lower().startswith(("http://", "https://"))

    def load(self) -> None:
        """Load the WSDL and bind the operation; raises DefinitionError on a mismatch."""
        with self._lock:
            if self._service is not None:
                return
            up = self.upstream
            document = load_wsdl(
                up.wsdl,
                strict=up.strict,
                source=self.definition.source,
                timeout=self.definition.timeout,
            )
            client = zeep.Client(
                document,
                wsse=self._wsse,
                transport=self.transport,
                settings=document.settings,
            )
            try:
                port = self._port(document)
            except (KeyError, IndexError, ValueError) as exc:
                raise DefinitionError(
                    self.definition.source,
                    "upstream.service" if up.service else "upstream.port",
                    f"not found in the WSDL ({exc})",
                ) from exc
            operations = sorted(port.binding._operations)
            if up.operation not in operations:
                raise DefinitionError(
                    self.definition.source,
                    "upstream.operation",
                    f"the WSDL has no operation {up.operation} (it has: {', '.join(operations)})",
                )
            address = up.address or port.binding_options.get("address")
            if not address:
                raise DefinitionError(
                    self.definition.source, "upstream.address", "the WSDL names no address"
                )
            self._address = address
            self._service = client.create_service(port.binding.name, address)

    def _port(self, document: Document) -> Any:
        services = document.services
        if self.upstream.service:
            service = services[self.upstream.service]
        else:
            service = next(iter(services.values()))
        if self.upstream.port:
            return service.ports[self.upstream.port]
        return next(iter(service.ports.values()))

    def _headers(self, ctx: Context) -> Any:
        up = self.upstream
        values = {path: ctx.get(key) for key, path in up.soap_headers if ctx.get(key) is not None}
        if not values:
            return None
        if up.soap_header_namespace:
            # The WSDL does not declare these headers: send them as raw elements.
            roots: dict[str, etree._Element] = {}
            for path, value in values.items():
                parts = path.split(".")
                top = roots.get(parts[0])
                if top is None:
                    top = etree.Element(etree.QName(up.soap_header_namespace, parts[0]))
                    roots[parts[0]] = top
                node = top
                for part in parts[1:]:
                    child = node.find(etree.QName(up.soap_header_namespace, part))
                    if child is None:
                        child = etree.SubElement(node, etree.QName(up.soap_header_namespace, part))
                    node = child
                node.text = value
            return list(roots.values())
        headers: dict[str, Any] = {}
        for path, value in values.items():
            set_path(headers, path, value)
        return headers

    def call(
        self, params: Mapping[str, Any], ctx: Context, *, deadline: float
    ) -> dict[str, Any] | None:
        """Call the operation once; map the answer or raise a typed error."""
        self.load()
        kwargs: dict[str, Any] = {}
        for name, path in self.definition.request:
            value = params.get(name)
            if value is None:
                continue
            if isinstance(value, dt.date):
                # zeep writes years before 1000 unpadded (999-01-01): give it the ISO text.
                value = value.isoformat()
            set_path(kwargs, path, value)
        headers = self._headers(ctx)
        if headers is not None:
            kwargs["_soapheaders"] = headers
        operation = getattr(self._service, self.upstream.operation)
        self.transport.set_deadline(deadline)
        try:
            answer = operation(**kwargs)
        except zeep.exceptions.Fault as exc:
            if exc.code is None and not exc.subcodes:
                # zeep calls any non-200 XML body a fault; without soap:Fault it is not one.
                status = self.transport.last_status() or 0
                if status >= 500:
                    raise UpstreamUnavailableError(
                        f"The upstream service answered HTTP {status}.",
                        upstream=self._address,
                        status=status,
                    ) from exc
                raise UpstreamInvalidResponseError(
                    f"The upstream answered HTTP {status} without a SOAP envelope.",
                    upstream=self._address,
                ) from exc
            code = _fault_code(exc)
            message = _text(exc.message)
            for rule in self.definition.response.not_found:
                if rule.fault and (rule.fault == code or rule.fault in (message or "")):
                    return None
            raise UpstreamFaultError(
                upstream=self._address, fault_code=code, fault_string=message
            ) from exc
        except zeep.exceptions.TransportError as exc:
            if exc.status_code >= 500 or exc.status_code == 0:
                raise UpstreamUnavailableError(
                    f"The upstream service answered HTTP {exc.status_code}.",
                    upstream=self._address,
                    status=exc.status_code,
                ) from exc
            if exc.status_code >= 400:
                raise UpstreamFaultError(
                    upstream=self._address,
                    fault_code=f"http_{exc.status_code}",
                    fault_string="The upstream service refused the request.",
                ) from exc
            raise UpstreamInvalidResponseError(
                "The upstream answer is not a SOAP envelope.", upstream=self._address
            ) from exc
        except _XML_ERRORS as exc:
            raise UpstreamInvalidResponseError(
                f"The upstream answer was refused: {type(exc).__name__}.", upstream=self._address
            ) from exc
        finally:
            self.transport.set_deadline(None)
        return map_response(serialize_object(answer, dict), self.definition.response)

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()


def _fault_code(exc: zeep.exceptions.Fault) -> str | None:
    # SOAP 1.1 "soap:Client.X" and SOAP 1.2 Sender + Subcode X both become "Client.X"/"Sender.X".
    parts = [_text(exc.code)] + [_text(s) for s in (exc.subcodes or [])]
    names = [p.rsplit(":", 1)[-1] for p in parts if p]
    return ".".join(names) or None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, etree.QName):
        return value.localname
    return str(value)


def _require_env(
    env: Mapping[str, str], name: str, definition: DatasetDefinition, path: str
) -> str:
    value = env.get(name)
    if not value:
        raise DefinitionError(definition.source, path, f"environment variable {name} is not set")
    return value
