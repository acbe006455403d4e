"""Settings: a frozen dataclass built once from ``LGSP_*`` environment variables.

``Settings.from_env`` is the only place in the code base that reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from hub.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Everything the hub needs to know about its environment."""

    database_url: str | None = None
    data_dir: Path = Path("var")
    base_url: str = "http://127.0.0.1:5000"
    secret_key: str | None = None
    log_level: str = "INFO"
    bind: str = "127.0.0.1:5000"
    # One process per core: more only add switching (each has LGSP_THREADS threads).
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    threads: int = 4
    graceful_timeout: int = 30
    request_timeout: int = 30
    max_content_length: int = 1024 * 1024
    db_pool_max: int = 8
    db_connect_timeout: int = 5
    access_token_ttl: int = 600
    refresh_token_ttl: int = 30 * 24 * 3600
    session_ttl: int = 8 * 3600
    audit_key: str | None = None
    redis_url: str | None = None
    smtp_url: str | None = None
    metrics_dir: Path | None = None
    # The whole process environment, for connectors: dataset definitions name their
    # credentials and ${VAR} locations by environment variable.
    environment: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def issuer(self) -> str:
        """The OIDC issuer identifier: the base URL without a trailing slash."""
        return self.base_url.rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when the hub is served over https."""
        return self.base_url.startswith("https://")

    @property
    def pg_dir(self) -> Path:
        """Where the embedded PostgreSQL keeps its files."""
        return self.data_dir / "pg"

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def with_demo_secret(self) -> Settings:
        """Fill a missing secret key from ``<data dir>/secret_key``, created once with mode 0600."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(f"{path} holds a secret key shorter than 32 characters; delete it")
        return self.replace(secret_key=key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``LGSP_*`` variables; raise ConfigError naming the bad one."""
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str) -> str | None:
            value = env.get(f"LGSP_{name}")
            return value.strip() if value is not None and value.strip() else None

        def integer(name: str, default: int, minimum: int = 1) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"LGSP_{name} must be an integer, got {raw!r}") from None
            if value < minimum:
                raise ConfigError(f"LGSP_{name} must be at least {minimum}, got {value}")
            return value

        database_url = get("DATABASE_URL")
        if database_url is not None and not database_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise ConfigError(
                f"LGSP_DATABASE_URL must be a postgresql:// URL, got {redact(database_url)!r}"
            )
        base_url = (get("BASE_URL") or defaults.base_url).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(f"LGSP_BASE_URL must be an http(s) URL, got {base_url!r}")
        secret_key = get("SECRET_KEY")
        if secret_key is not None and len(secret_key) < 32:
            raise ConfigError("LGSP_SECRET_KEY must be at least 32 characters long")
        log_level = (get("LOG_LEVEL") or defaults.log_level).upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"LGSP_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        bind = get("BIND") or defaults.bind
        host, sep, port = bind.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"LGSP_BIND must be HOST:PORT, got {bind!r}")
        metrics_dir = get("METRICS_DIR")
        smtp_url = get("SMTP_URL")
        if smtp_url is not None:
            smtp = urlsplit(smtp_url)
            if smtp.scheme not in ("smtp", "smtps") or not smtp.hostname:
                raise ConfigError(
                    f"LGSP_SMTP_URL must be an smtp:// or smtps:// URL, got {redact(smtp_url)!r}"
                )
            if "from=" not in smtp.query:
                raise ConfigError(
                    "LGSP_SMTP_URL needs the sender address: ?from=hub@example.gov.vn"
                )
        return cls(
            database_url=database_url,
            data_dir=Path(get("DATA_DIR") or defaults.data_dir),
            base_url=base_url,
            secret_key=secret_key,
            log_level=log_level,
            bind=bind,
            workers=integer("WORKERS", defaults.workers),
            threads=integer("THREADS", defaults.threads),
            graceful_timeout=integer("GRACEFUL_TIMEOUT", defaults.graceful_timeout),
            request_timeout=integer("REQUEST_TIMEOUT", defaults.request_timeout),
            max_content_length=integer("MAX_CONTENT_LENGTH", defaults.max_content_length),
            db_pool_max=integer("DB_POOL_MAX", defaults.db_pool_max),
            db_connect_timeout=integer("DB_CONNECT_TIMEOUT", defaults.db_connect_timeout),
            access_token_ttl=integer("ACCESS_TOKEN_TTL", defaults.access_token_ttl, 30),
            refresh_token_ttl=integer("REFRESH_TOKEN_TTL", defaults.refresh_token_ttl, 60),
            session_ttl=integer("SESSION_TTL", defaults.session_ttl, 60),
            audit_key=get("AUDIT_KEY"),
            redis_url=get("REDIS_URL"),
            smtp_url=smtp_url,
            metrics_dir=Path(metrics_dir) if metrics_dir else None,
            environment=MappingProxyType(dict(env)),
        )


def redact(url: str) -> str:
    """Hide the password part of a URL before it is shown."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
