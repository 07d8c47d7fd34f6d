"""The benchmark's table: rows as they are measured, and a PASS/FAIL line per target."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """Rows of the printed table, and the verdict on each target."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    targets: list[tuple[str, bool | None, str]] = field(default_factory=list)

    def add(self, what: str, value: str) -> None:
        self.rows.append((what, value))
        print(f"  {what:<58} {value}", flush=True)

    def target(self, what: str, met: bool | None, detail: str) -> None:
        self.targets.append((what, met, detail))

    def print(self) -> None:
        width = max(len(w) for w, _ in self.rows) if self.rows else 10
        print("\n" + "=" * (width + 40))
        print("partnerlink scale benchmark (guarantee scale)")
        print("=" * (width + 40))
        for what, value in self.rows:
            print(f"{what:<{width}}  {value}")
        print("-" * (width + 40))
        for what, met, detail in self.targets:
            mark = "n/a " if met is None else ("PASS" if met else "FAIL")
            print(f"[{mark}] {what:<{width - 7}} {detail}")
