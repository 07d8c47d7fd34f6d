"""Alerting: a pure decision per finding and sink, an outbox written in the audit's
transaction, a dispatcher that drains it through one module per channel, and the heartbeat.

Public entry points (see each module for the why):

- audit engine: :func:`plan_and_enqueue` inside the audit's write transaction;
- daemon / CLI: :func:`deliver_pending` or a :class:`Dispatcher`; :class:`Heartbeat`;
- ``partnerlink alerts test``: :func:`send_test`;
- config: :class:`AlertsConfig` (mounted under ``[alerts]``), :func:`register_alert_secrets`.
"""

from agent.alerts.config import AlertsConfig, Silence, UnknownSink
from agent.alerts.decide import Decision, FindingView, History, decide, routes
from agent.alerts.dispatcher import Dispatcher, DrainSummary, RetrySchedule, deliver_pending
from agent.alerts.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from agent.alerts.grouping import group_messages
from agent.alerts.heartbeat import Heartbeat
from agent.alerts.message import Action, AlertItem, Kind, Message
from agent.alerts.outbox import PlanSummary, enqueue, plan_and_enqueue, tags_by_tenant
from agent.alerts.probe import send_test
from agent.alerts.sinks import SINK_TYPES, Sink, SinkConfig
from agent.alerts.sinks.base import DeliveryResult
from agent.alerts.sinkset import SinkSet, build_sinks, register_alert_secrets

__all__ = [
    "SINK_TYPES",
    "Action",
    "AlertItem",
    "AlertsConfig",
    "Decision",
    "DeliveryError",
    "DeliveryResult",
    "Dispatcher",
    "DrainSummary",
    "FindingView",
    "Heartbeat",
    "History",
    "Kind",
    "Message",
    "PermanentDeliveryError",
    "PlanSummary",
    "RetrySchedule",
    "Silence",
    "Sink",
    "SinkConfig",
    "SinkSet",
    "TransientDeliveryError",
    "UnknownSink",
    "build_sinks",
    "decide",
    "deliver_pending",
    "enqueue",
    "group_messages",
    "plan_and_enqueue",
    "register_alert_secrets",
    "routes",
    "send_test",
    "tags_by_tenant",
]
