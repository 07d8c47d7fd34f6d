"""The Grafana dashboard in docs/grafana/ asks only for what the daemon exports: every panel's
PromQL names metrics of the daemon's own Prometheus registry (with their ``_total``,
``_bucket``, ``_sum``, ``_count`` sample names), and every metric the daemon exports has a
panel, so a renamed or added metric cannot leave the dashboard silently blank or behind."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agent.metrics import Metrics
from agent.store import Store

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "partnerlink.json"

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}
"""How the Prometheus text format names a family's samples, by its type."""

KEYWORDS = {
    *("by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"),
    *("and", "or", "unless", "inf", "nan"),
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_NAME = re.compile(r"(?<![\w:.])[a-zA-Z_:][a-zA-Z0-9_:]*")
_CALL = re.compile(r"\s*\(")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left of it once strings, label
    matchers, ranges, label lists, Grafana variables, numbers, keywords and function or
    aggregation names are taken out."""
    text = _STRING.sub(" ", expr)
    text = _BRACES.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    text = _VARIABLE.sub(" ", text)
    return {
        found.group()
        for found in _NAME.finditer(text)
        if found.group() not in KEYWORDS and not _CALL.match(text, found.end())
    }


def exported(tmp_path: Path) -> tuple[set[str], set[str]]:
    """(sample names, family names) of the daemon's registry, its store collector included."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        families = list(Metrics(store).registry.collect())
    finally:
        store.close()
    samples = {f.name + suffix for f in families for suffix in SUFFIXES[f.type]}
    return samples, {f.name for f in families}


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, expression) of every panel target and every query variable."""
    found: list[tuple[str, str]] = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                found.append((f"panel {inner['title']!r} {target['refId']}", target["expr"]))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append((f"variable {variable['name']}", variable["definition"]))
    return found


def test_the_parser_finds_the_metrics_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, api) (rate(a_bucket{x="b_total",y=~"$v"}[5m])))'
        " / on (api) group_left sum(b_total offset 1h) > bool 2 or c_info"
        ' + label_values(d, instance) + time() - ${var} * e{f="g"}'
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c_info", "d", "instance", "e"}


def test_every_panel_names_only_metrics_the_daemon_exports(tmp_path: Path) -> None:
    samples, _families = exported(tmp_path)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = queries(dashboard)
    assert len(found) >= 10
    for where, expr in found:
        names = metric_names(expr) - {"instance"}  # label_values(metric, label)
        assert names, f"{where}: names no metric: {expr}"
        assert names <= samples, f"{where}: {sorted(names - samples)} not exported"


def test_every_metric_the_daemon_exports_has_a_panel(tmp_path: Path) -> None:
    _samples, families = exported(tmp_path)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    named = {name for _where, expr in queries(dashboard) for name in metric_names(expr)}
    shown = {f for f in families if any(n == f or n.startswith(f + "_") for n in named)}
    assert families - shown == set(), "exported but on no panel"


def test_the_dashboard_is_a_grafana_dashboard_on_a_chosen_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "partnerlink" and dashboard["schemaVersion"] >= 36
    kinds = {v["name"]: v["type"] for v in dashboard["templating"]["list"]}
    assert kinds["datasource"] == "datasource"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["description"], panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
