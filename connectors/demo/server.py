"""Run the demo ministries in background threads on (by default) ephemeral ports."""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.demo.business import BusinessRegistryApp
from connectors.demo.insurance import DEMO_PASSWORD, DEMO_USERNAME, make_insurance_app
from connectors.demo.population import HeaderRecorder, make_population_app

DEMO_BUSINESS_API_KEY = "demo-dkkd-key"  # noqa: S105 - demo ministry, published on purpose


class QuietHandler(WSGIRequestHandler):
    """A request handler that does not log every request to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log."""

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Skip the error log (clients hanging up on purpose in fault tests)."""


@dataclass
class ServerThread:
    """One WSGI app served by werkzeug in a daemon thread."""

    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """Return http://host:port."""
        return f"http://{self.server.host}:{self.server.server_port}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def bind_server(
    host: str,
    port: int,
    app: Callable[..., Any],
    request_handler: type[WSGIRequestHandler] | None = None,
) -> BaseWSGIServer:
    """A threaded werkzeug server bound to host:port (0: a free port).

    A taken port raises OSError, so that callers can pick another: werkzeug's own
    ``make_server`` prints a message and exits the process instead.
    """
    if port:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))  # OSError (EADDRINUSE) when taken
    try:
        return make_server(host, port, app, threaded=True, request_handler=request_handler)
    except SystemExit:  # taken between the probe and the bind
        raise OSError(errno.EADDRINUSE, f"{host}:{port} is in use") from None


def serve_app(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """Serve a WSGI app in a background thread (threaded, port 0 = ephemeral)."""
    server = bind_server(host, port, app, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"demo-{port}", daemon=True)
    thread.start()
    return ServerThread(server=server, thread=thread)


@dataclass
class DemoMinistries:
    """Running demo ministries, their URLs, and the env that the dataset YAML files read."""

    population: ServerThread
    business: ServerThread
    insurance: ServerThread
    population_headers: HeaderRecorder
    business_app: BusinessRegistryApp
    _stopped: bool = field(default=False, repr=False)

    @property
    def population_wsdl(self) -> str:
        """Return the population registry's WSDL URL."""
        return self.population.base_url + "/?wsdl"

    @property
    def insurance_wsdl(self) -> str:
        """Return the social-insurance registry's WSDL URL."""
        return self.insurance.base_url + "/?wsdl"

    @property
    def business_url(self) -> str:
        """Return the business registry's base URL."""
        return self.business.base_url

    @property
    def env(self) -> dict[str, str]:
        """Return the variables datasets/*.yaml expect (locations and demo credentials)."""
        return {
            "LGSP_DEMO_POPULATION_WSDL": self.population_wsdl,
            "LGSP_DEMO_BUSINESS_URL": self.business_url,
            "LGSP_DEMO_INSURANCE_WSDL": self.insurance_wsdl,
            "LGSP_DEMO_BUSINESS_API_KEY": DEMO_BUSINESS_API_KEY,
            "LGSP_DEMO_BHXH_USERNAME": DEMO_USERNAME,
            "LGSP_DEMO_BHXH_PASSWORD": DEMO_PASSWORD,
        }

    def to_dict(self) -> dict[str, str]:
        """Return the URLs, for `lgsp demo`'s printout and demo.json."""
        return {
            "population_wsdl": self.population_wsdl,
            "business_url": self.business_url,
            "insurance_wsdl": self.insurance_wsdl,
        }

    def stop(self) -> None:
        """Stop all three servers."""
        if self._stopped:
            return
        self._stopped = True
        for server in (self.population, self.business, self.insurance):
            server.stop()


def start_demo_ministries(host: str = "127.0.0.1", port: int = 0) -> DemoMinistries:
    """Start the population (SOAP 1.1), business (REST) and insurance (SOAP 1.2) ministries.

    With port=0 every ministry gets an ephemeral port; otherwise port, port+1 and port+2.
    """
    recorder = HeaderRecorder()
    business_app = BusinessRegistryApp(api_key=DEMO_BUSINESS_API_KEY)
    started: list[ServerThread] = []
    try:
        for offset, app in enumerate(
            (make_population_app(recorder=recorder), business_app, make_insurance_app())
        ):
            started.append(serve_app(app, host, port + offset if port else 0))
    except BaseException:
        for server in started:
            server.stop()
        raise
    return DemoMinistries(
        population=started[0],
        business=started[1],
        insurance=started[2],
        population_headers=recorder,
        business_app=business_app,
    )
