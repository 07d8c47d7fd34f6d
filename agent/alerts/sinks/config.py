"""The settings every sink shares: its name and routing filters, and for a sink that calls a
URL (a webhook, or an incident service's API with a key) the URL's check at load time (guarantee
safe-urls).

Each sink's own config model lives in its module, beside the code that reads it.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from agent.alerts.settings import SeverityName, StrictModel, check_destination


class SinkBase(StrictModel):
    """What every sink has: a name, routing filters, and whether it hears about resolves."""

    lists_every_finding: ClassVar[bool] = False
    """Whether a grouped message to this sink lists every finding, not the first
    ``alerts.group_max_items``: a ticket sink needs each one's details to file it."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    enabled: bool = True
    min_severity: SeverityName = Field(
        default="info", description="Only findings at least this severe reach the sink."
    )
    rules: list[str] = Field(
        default=[], description="Rule ids to send (empty: every rule), e.g. ['cannot_verify']."
    )
    customer_tags: list[str] = Field(
        default=[],
        description="Only customers carrying one of these tags in the managed-customers file "
        "(empty: every customer, and partner-level findings).",
    )
    send_resolved: bool = Field(default=True, description="Also send 'resolved' messages.")


class HttpSinkBase(SinkBase):
    """A sink that POSTs to a user-configured URL: checked against guarantee safe-urls at load
    time."""

    allow_private: bool = Field(
        default=False,
        description="ESCAPE HATCH for tests and local development only: allow http:// and "
        "loopback/private/IP-literal destinations. Off by default; never set in production.",
    )
    # After allow_private: a field validator sees only the fields defined before it.
    url: SecretStr
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds per request.")

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        check_destination(value.get_secret_value(), info)
        return value


class ApiSinkBase(SinkBase):
    """A sink that calls an incident service's API (PagerDuty, Opsgenie) with a key.

    The key is the secret; the URL is not (it defaults to the service's public endpoint, is
    shown by ``check``, and changes only for a region or a local test server), yet it is
    checked against guarantee safe-urls all the same, since the key travels with every request to
    it.
    """

    allow_private: bool = Field(
        default=False,
        description="ESCAPE HATCH for tests and local development only: allow http:// and "
        "loopback/private/IP-literal destinations. Off by default; never set in production.",
    )
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds per request.")

    @property
    def endpoint(self) -> str:
        """The URL the key is sent to: what ``alerts.allow_hosts`` is checked against."""
        raise NotImplementedError
