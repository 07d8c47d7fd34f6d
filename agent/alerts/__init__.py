"""Alerting: a pure decision per finding and sink, an outbox written in the audit's
transaction, a dispatcher that drains it through one module per channel, and the heartbeat.

Public entry points (see each module for the why):

- audit engine: :func:`plan_and_enqueue` inside the audit's write transaction;
- daemon / CLI: :func:`deliver_pending` or a :class:`Dispatcher`; :class:`Heartbeat`;
- ``partnerlink alerts test``: :func:`send_test`;
- config: :class:`AlertsConfig` (mounted under ``[alerts]``), :func:`register_alert_secrets`.

The names load on first use (PEP 562): the config's sections need only ``agent.alerts.config``,
and importing the package must not pull in the dispatcher, the store and every sink for every
command.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "AlertsConfig": "agent.alerts.config",
    "Silence": "agent.alerts.config",
    "UnknownSink": "agent.alerts.config",
    "Decision": "agent.alerts.decide",
    "FindingView": "agent.alerts.decide",
    "History": "agent.alerts.decide",
    "decide": "agent.alerts.decide",
    "routes": "agent.alerts.decide",
    "Dispatcher": "agent.alerts.dispatcher",
    "DrainSummary": "agent.alerts.dispatcher",
    "RetrySchedule": "agent.alerts.dispatcher",
    "deliver_pending": "agent.alerts.dispatcher",
    "DeliveryError": "agent.alerts.errors",
    "PermanentDeliveryError": "agent.alerts.errors",
    "TransientDeliveryError": "agent.alerts.errors",
    "group_messages": "agent.alerts.grouping",
    "Heartbeat": "agent.alerts.heartbeat",
    "Action": "agent.alerts.message",
    "AlertItem": "agent.alerts.message",
    "Kind": "agent.alerts.message",
    "Message": "agent.alerts.message",
    "PlanSummary": "agent.alerts.outbox",
    "enqueue": "agent.alerts.outbox",
    "plan_and_enqueue": "agent.alerts.outbox",
    "tags_by_tenant": "agent.alerts.outbox",
    "send_test": "agent.alerts.probe",
    "SINK_TYPES": "agent.alerts.sinks",
    "Sink": "agent.alerts.sinks",
    "SinkConfig": "agent.alerts.sinks",
    "DeliveryResult": "agent.alerts.sinks.base",
    "SinkSet": "agent.alerts.sinkset",
    "build_sinks": "agent.alerts.sinkset",
    "register_alert_secrets": "agent.alerts.sinkset",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value
    return value


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
