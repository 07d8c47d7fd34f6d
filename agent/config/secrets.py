"""Every secret the settings hold, registered with the log scrubber before anything can log."""

from __future__ import annotations

from agent import logging as plog
from agent.alerts.sinkset import register_alert_secrets
from agent.config.settings import Settings


def register_secrets(settings: Settings) -> None:
    """App secrets and certificate passwords, the endpoint token, the page's sign-in secrets
    (its app's client secret, the session key), and the alert sinks' secrets."""
    creds = [settings.credentials, *settings.credentials.carriers]
    plog.register_secrets(
        v.get_secret_value()
        for c in creds
        for v in (c.client_secret, c.certificate_password)
        if v is not None
    )
    if settings.http.token is not None:
        plog.register_secrets([settings.http.token.get_secret_value()])
    sign_in = settings.http.sign_in
    if sign_in is not None:
        plog.register_secrets(
            v.get_secret_value() for v in (sign_in.client_secret, sign_in.session_key) if v
        )
    register_alert_secrets(settings.alerts)
