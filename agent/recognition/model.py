"""The rulebook and the SKU table as typed, frozen values, built from documents that already
passed their JSON schema (agent.recognition.load validates; nothing here re-checks shapes).

Why a second form: the evaluator reads fields, not dictionaries, and mypy holds it to them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Association(StrEnum):
    """Partner association types that Microsoft counts towards recognition."""

    CSP = "csp"
    DPOR = "dpor"
    CPOR = "cpor"
    PAL = "pal"


class SkuKind(StrEnum):
    PAID = "paid"
    FREE = "free"
    TRIAL = "trial"
    VIRAL = "viral"
    DEVELOPER = "developer"
    CAPACITY = "capacity"


AREA_NAMES: Mapping[str, str] = {
    "data_ai": "Data & AI (Azure)",
    "infrastructure": "Infrastructure (Azure)",
    "digital_app_innovation": "Digital & App Innovation (Azure)",
    "business_applications": "Business Applications",
    "modern_work": "Modern Work",
    "security": "Security",
}


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    url: str
    title: str
    publisher: str = ""
    published: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    source: Source
    quote: str


@dataclass(frozen=True, slots=True)
class Workload:
    id: str
    name: str
    family: str
    """``azure``, ``business_apps``, ``m365`` or ``security``: where its links and usage live."""
    activity: tuple[str, ...] = ()
    """Workload names of Graph's active-user report that measure it."""
    services: tuple[str, ...] = ()
    exclude_services: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Eligible:
    """An association type a rule counts, with the variants the source names (CPOR OSU...)."""

    kind: Association
    variants: tuple[str, ...] = ()

    def label(self) -> str:
        name = self.kind.upper()
        return f"{name} ({', '.join(v.upper() for v in self.variants)})" if self.variants else name


@dataclass(frozen=True, slots=True)
class Threshold:
    measure: str
    op: str
    value: float
    unit: str
    scope: str
    """``tenant`` (one figure for the customer) or ``any_workload`` (one workload must pass)."""
    needs: str
    """``snapshot`` (checked) or ``history`` (months the snapshot lacks: shown, not checked)."""
    text: str

    def passes(self, figure: float) -> bool:
        return {
            "gt": figure > self.value,
            "ge": figure >= self.value,
            "lt": figure < self.value,
            "le": figure <= self.value,
            "eq": figure == self.value,
        }[self.op]

    @property
    def is_ceiling(self) -> bool:
        """A ceiling (``at most``) fails when the figure is too large, not too small."""
        return self.op in ("lt", "le")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    solution_areas: tuple[str, ...]
    metric: str
    track: str
    associations: tuple[Eligible, ...]
    workloads: tuple[Workload, ...]
    thresholds: tuple[Threshold, ...]
    evidence: tuple[Evidence, ...]
    as_of: str
    note: str = ""

    @property
    def kinds(self) -> tuple[Association, ...]:
        return tuple(a.kind for a in self.associations)

    @property
    def families(self) -> frozenset[str]:
        return frozenset(w.family for w in self.workloads)

    def eligible(self, kind: Association) -> Eligible | None:
        return next((a for a in self.associations if a.kind is kind), None)


@dataclass(frozen=True, slots=True)
class TrackSplit:
    """How a solution area with tracks splits its customers: a tenant that clears the
    threshold on one of the workloads belongs to ``above``, any other to ``otherwise``."""

    area: str
    above: str
    otherwise: str
    workloads: tuple[Workload, ...]
    threshold: Threshold
    evidence: tuple[Evidence, ...]

    def as_rule(self) -> Rule:
        """The split as a rule the threshold checks can read (no association counts)."""
        return Rule(
            id=f"track:{self.area}",
            solution_areas=(self.area,),
            metric="net_customer_adds",
            track="all",
            associations=(),
            workloads=self.workloads,
            thresholds=(self.threshold,),
            evidence=self.evidence,
            as_of="",
        )


@dataclass(frozen=True, slots=True)
class Sku:
    part_number: str
    kind: SkuKind
    workloads: tuple[str, ...]
    source: Source
    sku_id: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class SkuTable:
    """Licence SKUs by part number and by GUID (Graph gives both; either may be missing)."""

    skus: tuple[Sku, ...]
    _by_part: dict[str, int] = field(init=False, repr=False, compare=False)
    _by_id: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Where each part number and GUID first appears: a lookup for every licence of every
        # customer walked the whole table before (a fifth of the report at 20,000 customers).
        by_part: dict[str, int] = {}
        by_id: dict[str, int] = {}
        for at, sku in enumerate(self.skus):
            by_part.setdefault(sku.part_number.upper(), at)
            if sku.sku_id:
                by_id.setdefault(sku.sku_id.lower(), at)
        object.__setattr__(self, "_by_part", by_part)
        object.__setattr__(self, "_by_id", by_id)

    def find(self, part_number: str | None, sku_id: str | None) -> Sku | None:
        """The first SKU of the table whose part number (any case) or GUID matches."""
        found = [
            at
            for at in (
                self._by_part.get(part_number.upper()) if part_number else None,
                self._by_id.get(sku_id.lower()) if sku_id else None,
            )
            if at is not None
        ]
        return self.skus[min(found)] if found else None


@dataclass(frozen=True, slots=True)
class Rulebook:
    rules: tuple[Rule, ...]
    workloads: Mapping[str, Workload]
    sources: Mapping[str, Source]
    skus: SkuTable
    tracks: Mapping[str, TrackSplit] = field(default_factory=dict)
    """Solution area -> how its customers split into tracks (Modern Work: SMB, enterprise)."""
    digest: str = ""
    """SHA-256 of the merged rulebook and SKU table it was built from: a credit view judged
    under another rulebook is told apart by it (``agent.recognition.stored``)."""

    def rule(self, rule_id: str) -> Rule:
        found = next((r for r in self.rules if r.id == rule_id), None)
        if found is None:
            raise KeyError(rule_id)
        return found


def build_rulebook(book: Mapping[str, Any], table: Mapping[str, Any]) -> Rulebook:
    """Typed values from a merged, validated rulebook and SKU table (references resolved)."""
    sources = {key: _source(key, raw) for key, raw in book["sources"].items()}
    sku_sources = {key: _source(key, raw) for key, raw in table["sources"].items()}
    workloads = {key: _workload(key, raw) for key, raw in book["workloads"].items()}
    rules = tuple(_rule(raw, sources, workloads) for raw in book["rules"])
    tracks = {
        area: TrackSplit(
            area=area,
            above=raw["above"],
            otherwise=raw["otherwise"],
            workloads=tuple(workloads[w] for w in raw["workloads"]),
            threshold=_threshold(raw["threshold"]),
            evidence=tuple(Evidence(sources[e["source"]], e["quote"]) for e in raw["evidence"]),
        )
        for area, raw in book.get("tracks", {}).items()
    }
    skus = tuple(
        Sku(
            part_number=raw["part_number"],
            kind=SkuKind(raw["kind"]),
            workloads=tuple(raw["workloads"]),
            source=sku_sources.get(raw["source"]) or sources[raw["source"]],
            sku_id=raw.get("sku_id"),
            name=raw.get("name", ""),
        )
        for raw in table["skus"]
    )
    text = json.dumps([book, table], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Rulebook(rules, workloads, sources, SkuTable(skus), tracks, digest)


def _source(key: str, raw: Mapping[str, Any]) -> Source:
    return Source(key, raw["url"], raw["title"], raw.get("publisher", ""), raw.get("published"))


def _workload(key: str, raw: Mapping[str, Any]) -> Workload:
    return Workload(
        id=key,
        name=raw["name"],
        family=raw["family"],
        activity=tuple(raw.get("activity", ())),
        services=tuple(raw.get("services", ())),
        exclude_services=tuple(raw.get("exclude_services", ())),
    )


def _rule(
    raw: Mapping[str, Any], sources: Mapping[str, Source], workloads: Mapping[str, Workload]
) -> Rule:
    return Rule(
        id=raw["id"],
        solution_areas=tuple(raw["solution_areas"]),
        metric=raw["metric"],
        track=raw["track"],
        associations=tuple(
            Eligible(Association(a["kind"]), tuple(a.get("variants", ())))
            for a in raw["associations"]
        ),
        workloads=tuple(workloads[w] for w in raw["workloads"]),
        thresholds=tuple(_threshold(t) for t in raw["thresholds"]),
        evidence=tuple(Evidence(sources[e["source"]], e["quote"]) for e in raw["evidence"]),
        as_of=raw["as_of"],
        note=raw.get("note", ""),
    )


def _threshold(raw: Mapping[str, Any]) -> Threshold:
    return Threshold(
        raw["measure"],
        raw["op"],
        float(raw["value"]),
        raw["unit"],
        raw["scope"],
        raw["needs"],
        raw["text"],
    )
