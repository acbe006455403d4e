"""`lgsp requests deliver`: the outbox sent by e-mail (a real local SMTP server), by an
operator's own sender, and failures kept queued with their error."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from hub.db import Database, execute, fetch_all
from tests.conftest import cli_env, run_lgsp

SUBJECT = "Đề nghị cấp quyền của bạn đã được tiếp nhận"


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages (RFC 5321), kept in server.messages."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.messages.append(data)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _queue(db: Database, *recipients: str) -> None:
    with db.transaction() as conn:
        for to in recipients:
            execute(
                conn,
                "INSERT INTO outbox (kind, recipient, subject, body)"
                " VALUES ('access_request.received', %(to)s, %(s)s, %(b)s)",
                {"to": to, "s": SUBJECT, "b": "Hạn trả lời: 2 ngày làm việc."},
            )


def _outbox(db: Database) -> list[dict]:
    with db.transaction() as conn:
        return fetch_all(
            conn, "SELECT recipient, sent_at, attempts, last_error FROM outbox ORDER BY id"
        )


def test_notices_go_out_by_smtp(
    db: Database, db_url: str, tmp_path: Path, smtp: socketserver.ThreadingTCPServer
) -> None:
    _queue(db, "dev@motcua.example.vn", "owner@c06.example.vn")
    port = smtp.server_address[1]
    env = cli_env(db_url, tmp_path, LGSP_SMTP_URL=f"smtp://127.0.0.1:{port}?from=hub@tinh.gov.vn")
    done = run_lgsp(env, "requests", "deliver")
    assert done.returncode == 0, done.stderr
    assert "2 notice(s) sent" in done.stdout
    messages = [message_from_bytes(m) for m in smtp.messages]  # type: ignore[attr-defined]
    assert [m["To"] for m in messages] == ["dev@motcua.example.vn", "owner@c06.example.vn"]
    assert str(make_header(decode_header(messages[0]["Subject"]))) == SUBJECT
    assert messages[0]["From"] == "hub@tinh.gov.vn"
    assert "2 ngày làm việc" in messages[0].get_payload(decode=True).decode()
    assert all(row["sent_at"] and row["attempts"] == 1 for row in _outbox(db))
    again = run_lgsp(env, "requests", "deliver")
    assert "0 notice(s) sent" in again.stdout and len(smtp.messages) == 2  # type: ignore[attr-defined]


def test_a_failing_sender_keeps_the_notices_queued(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    _queue(db, "dev@motcua.example.vn")
    # The operator's own sender: here one whose gateway refuses everything.
    (tmp_path / "my_sender.py").write_text(
        "class Refusing:\n"
        "    def __init__(self, settings):\n"
        "        self.settings = settings\n"
        "    def send(self, recipient, subject, body):\n"
        "        raise ConnectionRefusedError('the SMS gateway is down')\n",
        encoding="utf-8",
    )
    env = cli_env(db_url, tmp_path, PYTHONPATH=str(tmp_path))
    failed = run_lgsp(env, "requests", "deliver", "--sender", "my_sender:Refusing")
    assert failed.returncode == 1
    assert "could not be sent and stay queued" in failed.stderr
    assert "the SMS gateway is down" in failed.stderr and "Traceback" not in failed.stderr
    [row] = _outbox(db)
    assert row["sent_at"] is None and row["attempts"] == 1
    assert row["last_error"] == "ConnectionRefusedError: the SMS gateway is down"

    for bad in ("nowhere:Sender", "my_sender:Missing", "not-a-sender", "smtp"):
        refused = run_lgsp(env, "requests", "deliver", "--sender", bad)
        assert refused.returncode == 2, (bad, refused.stderr)
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    unreachable = run_lgsp(
        {**env, "LGSP_SMTP_URL": "smtp://127.0.0.1:1?from=hub@tinh.gov.vn"}, "requests", "deliver"
    )
    assert unreachable.returncode == 1 and "ConnectionRefusedError" in unreachable.stderr
    [row] = _outbox(db)
    assert row["attempts"] == 2 and row["sent_at"] is None
    bad_url = run_lgsp({**env, "LGSP_SMTP_URL": "http://mail"}, "requests", "deliver")
    assert bad_url.returncode == 2 and "LGSP_SMTP_URL" in bad_url.stderr
