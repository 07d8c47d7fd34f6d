"""Test doubles with behaviour: a local HTTP receiver, a local SMTP server with STARTTLS, a
recording sink, virtual time, and findings written straight into the store."""

from __future__ import annotations

import base64
import functools
import json
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme
from sqlmodel import Session

from agent.alerts.errors import DeliveryError
from agent.alerts.message import Message
from agent.alerts.sinks.base import DeliveryResult
from agent.store.models import Finding
from tests.conftest import Clock

# --------------------------------------------------------------------------- HTTP receiver


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    echo: bool = False
    """Answer with the request's path and body, as some services do in their errors."""


class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = []
        self.default = Reply(200, b"ok")
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                out = (self.path.encode() + b" " + body) if reply.echo else reply.body
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()


# ----------------------------------------------------------------------------- SMTP server


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes
    tls: bool
    auth: tuple[str, str] | None


@functools.cache
def _certificates() -> tuple[trustme.CA, trustme.LeafCert]:
    ca = trustme.CA(key_type=trustme.KeyType.ECDSA)
    return ca, ca.issue_cert("127.0.0.1", "localhost")


class SmtpServer:
    """A minimal SMTP submission server (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT)
    on 127.0.0.1, with a trustme certificate; enough to exercise smtplib's real path."""

    def __init__(self, *, password: str = "s3cret-smtp-pass", offer_starttls: bool = True) -> None:
        ca, cert = _certificates()
        self.server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.server_ctx)
        self.client_ctx = ssl.create_default_context()
        ca.configure_trust(self.client_ctx)
        self.mails: list[Mail] = []
        self.password = password
        self.offer_starttls = offer_starttls
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 5

            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self) -> None:
                tls = False
                auth: tuple[str, str] | None = None
                sender, recipients = "", []
                self.reply("220 localhost ESMTP test")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode().rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        extensions = ["250-localhost"]
                        if smtp.offer_starttls and not tls:
                            extensions.append("250-STARTTLS")
                        if tls:
                            extensions.append("250-AUTH PLAIN")
                        extensions.append("250 8BITMIME")
                        for ext in extensions:
                            self.reply(ext)
                    elif verb == "STARTTLS":
                        self.reply("220 go ahead")
                        self.request = smtp.server_ctx.wrap_socket(self.request, server_side=True)
                        self.rfile = self.request.makefile("rb")
                        self.wfile = self.request.makefile("wb")
                        tls = True
                    elif verb == "AUTH":
                        parts = line.split()
                        decoded = base64.b64decode(parts[2]).split(b"\0")
                        user, password = decoded[1].decode(), decoded[2].decode()
                        if password != smtp.password:
                            self.reply("535 5.7.8 authentication credentials invalid")
                            continue
                        auth = (user, password)
                        self.reply("235 ok")
                    elif verb == "MAIL":
                        sender = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        data = b""
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b""):
                                break
                            data += chunk
                        smtp.mails.append(Mail(sender, recipients, data, tls, auth))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    def __enter__(self) -> SmtpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# --------------------------------------------------------------------------- sinks, time


class RecordingSink:
    """A sink with behaviour: records every message, optionally fails from a script."""

    kind = "recording"

    def __init__(
        self,
        name: str = "rec",
        *,
        delay: float = 0.0,
        failures: list[DeliveryError] | None = None,
        on_send: Callable[[Message], None] | None = None,
    ) -> None:
        self._name = name
        self.delay = delay
        self.failures = failures or []
        self.sent: list[Message] = []
        self.on_send = on_send
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    async def send(self, message: Message) -> DeliveryResult:
        import asyncio

        if self.on_send is not None:
            self.on_send(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(message)
        return DeliveryResult(200)

    async def aclose(self) -> None:
        return None


def virtual_sleep(clock: Clock) -> Callable[[float], Any]:
    """An async sleep that moves the test clock instead of waiting."""

    async def sleep(seconds: float) -> None:
        import asyncio

        clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return sleep


# ------------------------------------------------------------------------------- findings

CUSTOMER_A = "11111111-1111-1111-1111-111111111111"
CUSTOMER_B = "22222222-2222-2222-2222-222222222222"


def finding(
    fp: str,
    *,
    rule: str = "link_missing",
    status: str = "open",
    severity: str = "high",
    customer: str | None = CUSTOMER_A,
    now: datetime,
    title: str | None = None,
) -> Finding:
    return Finding(
        fingerprint=fp,
        rule=rule,
        severity=severity,
        status=status,
        customer_tenant_id=customer,
        customer_name="Contoso" if customer else None,
        subject=f"subject {fp}",
        link_kind="pal",
        title=title or f"PAL missing ({fp})",
        remediation="Link the partner ID with `az managementpartner create`.",
        evidence="{}",
        first_seen=now,
        last_seen=now,
    )


def set_status(session: Session, fp: str, status: str) -> None:
    from sqlalchemy import select

    row = session.scalars(select(Finding).where(Finding.fingerprint == fp)).one()  # type: ignore[arg-type]
    row.status = status


def later(now: datetime, **kw: float) -> datetime:
    return now + timedelta(**kw)
