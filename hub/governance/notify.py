"""Senders of the outbox's notices: the log (default), SMTP, or one of the operator's own."""

from __future__ import annotations

import importlib
import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from hub.config import Settings
from hub.errors import ConfigError
from hub.governance.service import LogSender, NoticeSender

SMTP_TIMEOUT = 10.0  # seconds for connecting and for each exchange with the mail server


class SmtpSender:
    """E-mails each notice through the server of ``LGSP_SMTP_URL``:
    ``smtp[s]://[user:password@]host[:port]?from=ADDRESS[&starttls=1]``."""

    def __init__(self, url: str, *, timeout: float = SMTP_TIMEOUT) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or ""
        self.port = parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = query["from"][0]
        self.starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.timeout = timeout

    def send(self, recipient: str, subject: str, body: str) -> None:
        """Send one notice as a UTF-8 e-mail, or raise."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
        smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


def sender_for(settings: Settings, name: str | None = None) -> NoticeSender:
    """The sender called ``name``: ``log``, ``smtp`` (``LGSP_SMTP_URL``) or ``MODULE:ATTR``,
    a callable taking the settings and returning a sender (a class with ``send`` will do).
    Without a name: SMTP when ``LGSP_SMTP_URL`` is set, else the log."""
    name = name or ("smtp" if settings.smtp_url else "log")
    if name == "log":
        return LogSender()
    if name == "smtp":
        if not settings.smtp_url:
            raise ConfigError("the smtp sender needs LGSP_SMTP_URL")
        return SmtpSender(settings.smtp_url)
    module_name, sep, attr = name.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"a sender is log, smtp or MODULE:ATTR, got {name!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load the sender {name!r}: {exc}") from None
    sender = factory(settings)
    if not callable(getattr(sender, "send", None)):
        raise ConfigError(f"the sender {name!r} has no send(recipient, subject, body)")
    return sender
