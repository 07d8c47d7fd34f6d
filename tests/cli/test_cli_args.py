"""What the command line refuses and how it resolves: unknown filter values (listing the known),
customers by name, literal and unambiguous finding-id prefixes, snoozes that end in the future,
and configs that would only fail later. Every refusal is one line and exit code 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.store import RunStatus, ScopeResult, ScopeStatus, Store
from agent.store.models import Finding
from connectors.records.customers import Customer
from tests.cli.test_cli import partnerlink
from tests.config.certs import Cert

C1 = "c0000000-0000-4000-8000-000000000001"
C2 = "c0000000-0000-4000-8000-000000000002"
C3 = "c0000000-0000-4000-8000-000000000003"
C4 = "c0000000-0000-4000-8000-000000000004"
SHOUTY = "Contoso[red]\u2028Ltd"
"""Two customers' name: rich markup and a line separator, both to be shown as text."""
NOW = datetime.now(UTC)


def _finding(
    fingerprint: str, title: str, tenant: str | None, name: str | None, **kw: str
) -> Finding:
    return Finding(
        fingerprint=fingerprint.ljust(32, "0"),
        rule=kw.get("rule", "link_missing"),
        severity=kw.get("severity", "high"),
        status=kw.get("status", "open"),
        customer_tenant_id=tenant,
        customer_name=name,
        subject=title,
        title=title,
        first_seen=NOW - timedelta(days=3),
        last_seen=NOW,
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a few findings and customers, and a config that points at it."""
    folder = tmp_path_factory.mktemp("args")
    path = folder / "partnerlink.toml"
    path.write_text('[store]\ndata_dir = "."\n', encoding="utf-8")
    store = Store.open(f"sqlite:///{folder / 'partnerlink.db'}")
    try:
        run = store.start_run(NOW)
        store.save(
            run,
            [
                ScopeResult(
                    source="partner_center.customers",
                    scope="partner",
                    customer_tenant_id=None,
                    kinds=(Customer.KIND,),
                    status=ScopeStatus.COMPLETE,
                    records=[Customer(tenant_id=C2, name="Birch Bank")],
                )
            ],
            NOW,
        )
        store.finish_run(run, RunStatus.COMPLETE, NOW)
        with store.write() as s:
            s.add(_finding("abc123", "PAL missing on Alpine's Azure", C1, "Alpine Dairy"))
            s.add(_finding("abc124", "CPOR held by another partner", C1, "Alpine Dairy"))
            s.add(_finding("def456", "GDAP ends soon", C2, None, rule="gdap_expiring"))
            s.add(_finding("e01", "Contoso one", C3, SHOUTY, severity="medium"))
            s.add(_finding("e02", "Contoso two", C4, SHOUTY.upper(), severity="low"))
    finally:
        store.close()
    return path


def cli(config: Path, *args: str) -> tuple[int, str, str]:
    done = partnerlink("--config", str(config), *args)
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


def refused(config: Path, *args: str) -> str:
    code, _out, err = cli(config, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    return lines[0]


def fingerprints(config: Path, *args: str) -> set[str]:
    code, out, err = cli(config, "findings", "--format", "json", *args)
    assert code == 0, err
    return {row["fingerprint"][:6] for row in json.loads(out)}


# ------------------------------------------------------------------------- filter values


@pytest.mark.parametrize(
    ("option", "value", "listed"),
    [
        ("--rule", "link_gone", "cannot_verify, credential_expiring, gdap_ended, gdap_expiring"),
        ("--status", "opened", "pending, open, acknowledged, snoozed, resolved, suspect"),
        ("--severity", "hihg", "critical, high, medium, low, info"),
    ],
)
def test_an_unknown_filter_value_is_refused_listing_the_known_ones(
    config: Path, option: str, value: str, listed: str
) -> None:
    line = refused(config, "findings", option, value)

    assert line.startswith(f"error: {option}: unknown value '{value}'; expected one of "), line
    assert listed in line


def test_findings_filter_by_severity(config: Path) -> None:
    assert fingerprints(config, "--severity", "medium", "--severity", "LOW") == {"e01000", "e02000"}


# ------------------------------------------------------------------------- customers


def test_a_customer_is_found_by_its_name_in_any_case(config: Path) -> None:
    assert fingerprints(config, "--customer", "alpine DAIRY") == {"abc123", "abc124"}


def test_a_customer_is_found_by_the_name_partner_center_gives_it(config: Path) -> None:
    assert fingerprints(config, "--customer", "Birch Bank") == {"def456"}


def test_a_customer_is_still_found_by_its_tenant_id(config: Path) -> None:
    assert fingerprints(config, "--customer", C1.upper()) == {"abc123", "abc124"}


def test_an_ambiguous_customer_name_lists_the_candidates_as_text(config: Path) -> None:
    line = refused(config, "findings", "--customer", SHOUTY.lower())

    assert "names 2 customers" in line, line
    assert f"({C3})" in line
    assert f"({C4})" in line
    assert "Contoso[red]\\u2028Ltd" in line, "markup and the separator shown, not acted on"
    assert line.endswith("give the tenant ID")


@pytest.mark.parametrize("command", ["findings", "matrix"])
def test_an_unknown_customer_name_is_refused(config: Path, command: str) -> None:
    line = refused(config, command, "--customer", "Alpine")

    assert line == (
        "error: --customer: no customer with the tenant ID or name 'Alpine' "
        "(a name must match in full)"
    )


def test_a_name_quoted_in_a_refusal_stays_text_on_one_line(config: Path) -> None:
    line = refused(config, "findings", "--customer", "Nobody[bold]\u2028\u202ex")

    assert line == (
        "error: --customer: no customer with the tenant ID or name "
        "'Nobody[bold]\\u2028\\u202ex' (a name must match in full)"
    )


def test_an_evidence_pack_is_made_for_a_customer_named(config: Path) -> None:
    code, out, err = cli(config, "report", "--evidence", "Alpine Dairy")

    assert code == 0, err
    assert f"Customer tenant: `{C1}`" in out


# ------------------------------------------------------------------------- finding ids


@pytest.mark.parametrize("prefix", ["%", "a%", "abc12_", "_bc"])
def test_like_wildcards_in_a_finding_id_are_literal_characters(config: Path, prefix: str) -> None:
    assert refused(config, "explain", prefix) == f"error: no finding with id {prefix}"


def test_an_ambiguous_finding_id_lists_the_candidates(config: Path) -> None:
    line = refused(config, "explain", "abc12")

    assert line.startswith("error: abc12 matches more than one finding ("), line
    assert "abc123000000 PAL missing on Alpine's Azure" in line
    assert "abc124000000 CPOR held by another partner" in line


def test_an_ambiguous_finding_id_changes_nothing(config: Path) -> None:
    line = refused(config, "ack", "ABC12", "--owner", "ops")

    assert "matches more than one finding" in line
    assert "acknowledged" not in cli(config, "findings", "--format", "json")[1]


# ------------------------------------------------------------------------- snooze


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        ("2020-01-01", "error: --until: '2020-01-01' is in the past (now is "),
        ((NOW - timedelta(hours=1)).isoformat(), "error: --until: "),
        ("0d", "error: --until: expected a duration longer than nothing, got '0d'"),
        ("0s", "error: --until: expected a duration longer than nothing, got '0s'"),
    ],
)
def test_a_snooze_must_end_in_the_future(config: Path, until: str, expected: str) -> None:
    line = refused(config, "snooze", "def456", "--until", until)

    assert line.startswith(expected), line
    assert (
        "snoozed" not in cli(config, "findings", "--format", "json", "--rule", "gdap_expiring")[1]
    )


def test_a_snooze_until_a_later_date_is_taken(config: Path) -> None:
    later = (NOW + timedelta(days=30)).date().isoformat()

    code, out, err = cli(config, "snooze", "def456", "--until", later)

    assert code == 0, err
    assert out.startswith("def456000000 is now snoozed")
    assert cli(config, "unsnooze", "def456")[0] == 0


# ------------------------------------------------------------------------- configs


def test_check_refuses_a_certificate_that_is_not_there(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[credentials]\nclient_id = "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c"\n'
        'certificate_file = "app.pem"\n'
    )

    line = refused(config, "check")

    assert line == (
        f"error: {config}: credentials.certificate_file: cannot read {tmp_path / 'app.pem'} "
        "(No such file or directory)"
    )


def test_check_refuses_an_expired_certificate(tmp_path: Path) -> None:
    Cert(start=-400, end=-2).pem(tmp_path / "app.pem")
    config = tmp_path / "c.toml"
    config.write_text(
        '[credentials]\nclient_id = "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c"\n'
        'certificate_file = "app.pem"\n'
    )

    line = refused(config, "check")

    assert line.startswith(f"error: {config}: credentials.certificate_file: "), line
    assert "the certificate expired on" in line


@pytest.mark.parametrize("command", ["check", "status", "run"])
def test_every_command_refuses_a_cron_the_scheduler_cannot_run(
    tmp_path: Path, command: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path}"\n[schedule]\ncron = "0 24 * * *"\n')

    line = refused(config, command)

    assert line.startswith(f"error: {config}: schedule.cron: expected a cron the scheduler"), line
    assert "(got '0 24 * * *')" in line


def test_check_refuses_a_blank_client_secret(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[credentials]\nclient_secret = "  "\n')

    line = refused(config, "check")

    assert line == (
        f"error: {config}: credentials.client_secret: expected a secret, got an empty value "
        "(give it, or remove the key)"
    )
