"""The whole configuration: every section under its key, overridable from ``PARTNERLINK_*``
environment variables (nested keys join with ``__``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.config.sections import (
    AlertsSection,
    AuditSection,
    CloudSection,
    CredentialsSection,
    ExpectationsSection,
    LoggingSection,
    PartnerSection,
    ReadinessSection,
    RecognitionSection,
    RepairSection,
    ScheduleSection,
    SourcesSection,
    StoreSection,
    SyncSection,
)
from agent.web.config import HttpSection

ENV_PREFIX = "PARTNERLINK_"


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    partner: PartnerSection = PartnerSection()
    credentials: CredentialsSection = CredentialsSection()
    cloud: CloudSection = CloudSection()
    sources: SourcesSection = SourcesSection()
    store: StoreSection = StoreSection()
    sync: SyncSection = SyncSection()
    schedule: ScheduleSection = ScheduleSection()
    audit: AuditSection = AuditSection()
    expectations: ExpectationsSection = ExpectationsSection()
    recognition: RecognitionSection = RecognitionSection()
    readiness: ReadinessSection = ReadinessSection()
    alerts: AlertsSection = AlertsSection()
    http: HttpSection = HttpSection()
    repair: RepairSection = RepairSection()
    logging: LoggingSection = LoggingSection()

    def partner_ids(self) -> frozenset[str]:
        return self.partner.ids()


def source_file(settings: Settings) -> Path | None:
    """The file the settings were read from; None when only defaults and environment."""
    return getattr(settings, "_source_file", None)
