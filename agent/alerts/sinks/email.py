"""E-mail over SMTP submission: STARTTLS on 587 (or implicit TLS on 465), never in clear.

``smtplib`` blocks, so each delivery runs in a worker thread; one connection per message keeps
a failure from leaking into the next send. SMTP replies map to the error tree the way HTTP
ones do: 4xx transient, 5xx permanent (bad credentials included). Names reach the subject only
through ``for_mail_header`` (one line: a CR or LF in a name neither adds a header nor makes the
message unsendable), the plain body through ``for_plain_text``, the HTML body through
``for_html``.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from agent.alerts.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    scrub_text,
)
from agent.alerts.message import Action, Message
from agent.alerts.sinks.base import Clock, DeliveryResult
from agent.alerts.sinks.config import SinkBase
from agent.escape import for_html, for_mail_header, for_plain_text


class EmailSinkConfig(SinkBase):
    """SMTP submission with STARTTLS (port 587) or implicit TLS (port 465); never in clear."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")]] = Field(min_length=1)
    timeout: float = Field(default=20.0, gt=0, le=300)

    @model_validator(mode="after")
    def _credentials(self) -> EmailSinkConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        return self


def email_secrets(config: EmailSinkConfig) -> list[str]:
    """What the log redactor must know: the SMTP password, if any."""
    return [] if config.password is None else [config.password.get_secret_value()]


SmtpFactory = Callable[[EmailSinkConfig, ssl.SSLContext], smtplib.SMTP]


def plain_text(message: Message) -> str:
    t = for_plain_text
    lines = [
        t(message.title),
        "",
        t(message.summary()),
        "",
        f"Rule: {t(message.rule_title)}",
        f"Severity: {t(message.severity)}",
        f"Findings: {message.total}",
        "",
    ]
    for item in message.items:
        lines.append(f"- [{t(item.severity)}] {t(item.customer)}: {t(item.title)}")
        if message.total == 1 and item.remediation and message.action is not Action.RESOLVED:
            lines += ["", f"What to do: {t(item.remediation)}"]
    if message.omitted:
        lines.append(message.more_text())
    lines += ["", f"dedup key: {message.dedup_key}"]
    return "\n".join(lines) + "\n"


def html_text(message: Message) -> str:
    e = for_html
    rows = "".join(
        f"<li><strong>{e(i.severity)}</strong> {e(i.customer)}: {e(i.title)}</li>"
        for i in message.items
    )
    more = f"<p><em>{e(message.more_text())}</em></p>" if message.omitted else ""
    todo = ""
    if (
        message.total == 1
        and message.items[0].remediation
        and (message.action is not Action.RESOLVED)
    ):
        todo = f"<p><strong>What to do:</strong> {e(message.items[0].remediation)}</p>"
    return (
        "<!doctype html><html><body>"
        f"<h2>{e(message.title)}</h2><p>{e(message.summary())}</p>"
        f"<table><tr><th align='left'>Rule</th><td>{e(message.rule_title)}</td></tr>"
        f"<tr><th align='left'>Severity</th><td>{e(message.severity)}</td></tr>"
        f"<tr><th align='left'>Findings</th><td>{message.total}</td></tr></table>"
        f"<ul>{rows}</ul>{more}{todo}"
        f"<p style='color:#777'>dedup key {e(message.dedup_key)}</p>"
        "</body></html>"
    )


def mime(message: Message, *, sender: str, to: list[str], clock: Clock) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = for_mail_header(message.headline())
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(clock().timestamp(), usegmt=True)
    # The same Message-ID on every retry lets mail systems drop a duplicate delivery.
    digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:40]
    mail["Message-ID"] = f"<{digest}@partnerlink>"
    mail["X-Partnerlink-Dedup-Key"] = for_mail_header(message.dedup_key)
    mail["X-Partnerlink-Kind"] = message.kind.value
    mail.set_content(plain_text(message))
    mail.add_alternative(html_text(message), subtype="html")
    return mail


def default_smtp(config: EmailSinkConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    if config.security == "tls":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


class EmailSink:
    kind = "email"

    def __init__(
        self,
        config: EmailSinkConfig,
        *,
        clock: Clock,
        ssl_context: ssl.SSLContext | None = None,
        smtp_factory: SmtpFactory = default_smtp,
    ) -> None:
        self.config = config
        self.clock = clock
        self.ssl_context = ssl_context
        self.smtp_factory = smtp_factory
        password = config.password.get_secret_value() if config.password else ""
        self._password = password
        self.secrets: tuple[str, ...] = (password,) if password else ()

    @property
    def name(self) -> str:
        return self.config.name

    async def send(self, message: Message) -> DeliveryResult:
        mail = mime(message, sender=self.config.sender, to=list(self.config.to), clock=self.clock)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except DeliveryError:
            raise
        except Exception as exc:  # every smtplib/ssl/socket failure, classified once
            raise smtp_error(exc, self.secrets) from None
        return DeliveryResult(250, f"accepted for {len(self.config.to)} recipient(s)")

    def _deliver(self, mail: EmailMessage) -> None:
        context = self.ssl_context or ssl.create_default_context()
        with self.smtp_factory(self.config, context) as smtp:
            if self.config.security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise PermanentDeliveryError(
                        "the SMTP server does not offer STARTTLS; refusing to send in clear"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.config.username is not None:
                smtp.login(self.config.username, self._password)
            smtp.send_message(mail)

    async def aclose(self) -> None:
        return None


def _reply(code: int, text: bytes | str, secrets: tuple[str, ...]) -> DeliveryError:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    detail = f"SMTP {code}: {scrub_text(said, secrets, 120)}"
    if 400 <= code < 500:
        return TransientDeliveryError(detail, status=code)
    return PermanentDeliveryError(detail, status=code)


def smtp_error(exc: BaseException, secrets: tuple[str, ...] = ()) -> DeliveryError:
    """An exception from an SMTP session as a delivery error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in exc.recipients.values()})
        detail = f"SMTP recipients refused ({', '.join(map(str, codes))})"
        if codes and all(400 <= c < 500 for c in codes):
            return TransientDeliveryError(detail)
        return PermanentDeliveryError(detail)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return PermanentDeliveryError(
            f"SMTP authentication failed ({exc.smtp_code})", status=exc.smtp_code
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error, secrets)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentDeliveryError("the SMTP server does not support a required extension")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentDeliveryError("the SMTP server's certificate did not verify")
    if isinstance(
        exc,
        smtplib.SMTPServerDisconnected | TimeoutError | ConnectionError | ssl.SSLError | OSError,
    ):
        return TransientDeliveryError(f"SMTP connection failed ({type(exc).__name__})")
    if isinstance(exc, smtplib.SMTPException):
        return PermanentDeliveryError(f"SMTP error ({type(exc).__name__})")
    return PermanentDeliveryError(f"unexpected error ({type(exc).__name__})")
