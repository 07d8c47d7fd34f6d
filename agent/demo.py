"""``partnerlink demo``: the whole job, once, on the bundled demo world.

It writes a config, the world and a managed-customers file into a folder, runs a cycle on the
world, switches the world to its second state (links disappear) and runs cycles until the
disappearances are confirmed, then prints an association summary, the credit view by customer
and solution area, and the findings.
"""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.text import Text

from agent import logging as plog
from agent.app import Agent
from agent.config import load_settings
from agent.escape import for_terminal
from agent.exits import sync_code
from agent.files import write_private
from agent.names import Names
from agent.present import emit_findings, finding_order, new_table, print_audit, print_sync
from agent.present_matrix import KIND_WORDS
from agent.recognition import present as credit_present
from agent.store.models import ACTIVE_STATUSES
from agent.terminal import fit
from standin.scenario import Scenario, bundled_path, load_scenario

WORLD = "world.json"
CONFIG = "partnerlink.toml"
MANAGED = "managed-customers.csv"


def _resolved_world(name: str) -> str:
    """A bundled world with its ``base``/``patch`` applied, as one standalone document."""
    from standin.scenario import _resolve

    data = _resolve(bundled_path(name).resolve())
    return json.dumps(data, indent=2) + "\n"


def write_config(folder: Path, scenario: Scenario, mode: str) -> Path:
    """The demo's config: the partner of the world, its carrier, the local sources."""
    p = scenario.partner
    lines = [
        "# Written by `partnerlink demo`: the bundled demo world on the local stand-in.",
        "[partner]",
        f'tenant_id = "{p.tenant_id}"',
        f'name = "{p.name}"',
        f'global_partner_id = "{p.global_partner_id}"',
    ]
    for loc in p.locations:
        kinds = ", ".join(f'"{k}"' for k in loc.link_kinds)
        lines += [
            "",
            "[[partner.locations]]",
            f'partner_id = "{loc.partner_id}"',
            f'name = "{loc.name}"',
            f"link_kinds = [{kinds}]",
        ]
    lines += ["", "[credentials]", f'client_id = "{p.app.client_id}"']
    for carrier in p.carriers:
        tenants = sorted(
            {
                c.tenant_id
                for c in scenario.customers
                for i in c.identities
                if i.identity == carrier.name
            }
        )
        lines += [
            "",
            "[[credentials.carriers]]",
            f'name = "{carrier.name}"',
            f'client_id = "{carrier.client_id}"',
            "tenants = [" + ", ".join(f'"{t}"' for t in tenants) + "]",
        ]
    lines += [
        "",
        "[sources]",
        f'mode = "{mode}"',
        f'scenario = "{WORLD}"',
        "app_user = true",
        "",
        "[store]",
        'data_dir = "."',
        "",
        "[expectations]",
        f'managed_customers_file = "{MANAGED}"',
        "",
        "[logging]",
        'level = "error"',
        "",
    ]
    path = folder / CONFIG
    write_private(path, "\n".join(lines))
    return path


def run_demo(
    folder: Path, console: Console, *, log_level: str | None = None, mode: str = "emulator"
) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    write_private(folder / WORLD, _resolved_world("demo"))
    managed = resources.files("standin.scenario") / "worlds" / "demo-managed-customers.csv"
    write_private(folder / MANAGED, managed.read_bytes())
    scenario = load_scenario(folder / WORLD)
    config = write_config(folder, scenario, mode)
    settings = load_settings(config)
    plog.configure(log_level or settings.logging.level, settings.logging.format)
    console.rule(
        for_terminal(
            f"partnerlink demo · {scenario.partner.name} · {len(scenario.customers)} customers"
        )
    )
    with Agent(settings) as agent:
        console.print("[bold]1.[/] the world as it is", highlight=False)
        _cycle(agent, console)
        runs = agent.policy.disappeared_after_runs
    write_private(folder / WORLD, _resolved_world("demo-after"))
    for n in range(runs):
        with Agent(settings) as agent:  # fresh connectors read the changed world
            console.print(
                f"[bold]{n + 2}.[/] a night later: links disappear "
                f"(run {n + 1} of {runs} needed to confirm)",
                highlight=False,
            )
            code = _cycle(agent, console)
    with Agent(settings) as agent:
        summary(agent, console)
        credit(agent, console)
        rows = agent.store.findings(statuses=sorted(ACTIVE_STATUSES))
        rows.sort(key=finding_order)
        emit_findings(rows, "table", console, names=Names.from_store(agent.store))
        kinds = sorted({f.rule for f in rows})
        console.print(f"finding kinds shown: {', '.join(kinds)}", highlight=False)
    return code


def _cycle(agent: Agent, console: Console) -> int:
    synced, audited = agent.cycle(trigger="demo")
    print_sync(synced, console, Names.from_store(agent.store))
    if audited is not None:
        print_audit(audited, console)
    return 0 if synced.status.value in ("complete", "partial") else sync_code(synced.status)


def summary(agent: Agent, console: Console) -> None:
    """Customer by link kind: who holds what, from the link table."""
    ours = agent.settings.partner.ids() | {"self"}
    by_customer: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for link in agent.store.links():
        state = "gone" if link.missing_runs else ("ours" if link.holder in ours else link.holder)
        if link.holder == agent.settings.partner.global_partner_id and link.kind in ("pal", "cpor"):
            state = "global ID"
        label = link.workload.split(":", 1)[0]
        by_customer[link.customer_tenant_id][link.kind].append(f"{label}:{state}")
    names = {
        o.record.customer_tenant_id: getattr(o.record, "name", None)
        for o in agent.store.current(kinds=["customer"])
    }
    table = new_table("associations (✓ ours · ✗ gone · other partner IDs named)")
    kinds = ("csp", "indirect_reseller", "gdap", "pal", "dpor", "cpor")
    table.add_column("customer")
    for kind in kinds:
        table.add_column(KIND_WORDS.get(kind, kind.upper()))
    for tenant, links in sorted(by_customer.items(), key=lambda kv: names.get(kv[0]) or kv[0]):
        row = [for_terminal(names.get(tenant) or tenant)]
        for kind in kinds:
            cells = sorted(set(links.get(kind, [])))
            row.append(Text(" ").join(_mark(c) for c in cells))
        table.add_row(*row)
    console.print()
    console.print(fit(table, console.width))
    console.print()


def credit(agent: Agent, console: Console) -> None:
    """The credit view: who earns the recognition for each customer and solution area, and why
    we do not; the lines by reason (``partnerlink credit`` lists each one with its remedy)."""
    rows = agent.credit()
    console.print(credit_present.to_summary(rows))
    counts = ", ".join(f"{reason} {n}" for reason, n in credit_present.reason_counts(rows).items())
    console.print(f"credit lines: {len(rows)} ({counts})", highlight=False)


def _mark(cell: str) -> Text:
    label, state = cell.split(":", 1)
    where = "" if label == "tenant" else " " + label
    if state == "ours":
        return for_terminal(f"✓{where}", "green")
    if state == "gone":
        return for_terminal(f"✗{where}", "red")
    return for_terminal(f"{state}{where}", "yellow")  # another partner's ID, as Microsoft said
