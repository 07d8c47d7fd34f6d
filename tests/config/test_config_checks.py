"""A config that would only fail later is refused when it loads, in one line naming the key:
certificate files, blank secrets, crons the scheduler rejects, the starter file's placeholders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.config import ConfigError, Settings, load_settings
from agent.config.checks import PLACEHOLDERS
from agent.cron import cron_fields
from agent.daemon import WallClockCronTrigger
from tests.config.certs import Cert

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
APP = "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c"
TENANT = "7c3f5e2a-9d41-4b8e-a6f0-3e2d1c0b9a87"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def app_with(certificate: str, password: str | None = None) -> str:
    text = f'[credentials]\nclient_id = "{APP}"\ncertificate_file = "{certificate}"\n'
    return text + (f'certificate_password = "{password}"\n' if password is not None else "")


# ------------------------------------------------------------------------- certificates


def test_a_good_pem_certificate_loads(tmp_path: Path) -> None:
    Cert().pem(tmp_path / "app.pem")

    settings = load_settings(write(tmp_path / "p.toml", app_with("app.pem")))

    assert settings.credentials.certificate_file == tmp_path / "app.pem"


def test_a_pfx_with_its_password_loads(tmp_path: Path) -> None:
    Cert().pfx(tmp_path / "app.pfx", b"pfx-pass-1")

    load_settings(write(tmp_path / "p.toml", app_with("app.pfx", "pfx-pass-1")))


def _cert_file(tmp_path: Path, case: str) -> tuple[str, str | None]:
    """(certificate_file, certificate_password) for one broken case."""
    cert = Cert()
    if case == "missing":
        return "nowhere.pem", None
    if case == "a folder":
        (tmp_path / "certs").mkdir()
        return "certs", None
    if case == "not PEM":
        write(tmp_path / "app.pem", "-----BEGIN NOTHING-----\nhello\n")
        return "app.pem", None
    if case == "certificate only":
        (tmp_path / "app.pem").write_bytes(cert.cert_pem)
        return "app.pem", None
    if case == "key only":
        (tmp_path / "app.pem").write_bytes(cert.key_pem())
        return "app.pem", None
    if case == "foreign key":
        cert.with_foreign_key(tmp_path / "app.pem")
        return "app.pem", None
    if case == "expired":
        Cert(start=-400, end=-1).pem(tmp_path / "app.pem")
        return "app.pem", None
    if case == "not yet valid":
        Cert(start=2, end=400).pem(tmp_path / "app.pem")
        return "app.pem", None
    if case == "encrypted, no password":
        cert.pem(tmp_path / "app.pem", b"key-pass-42")
        return "app.pem", None
    if case == "encrypted, wrong password":
        cert.pem(tmp_path / "app.pem", b"key-pass-42")
        return "app.pem", "wrong-pass-777"
    if case == "pfx, wrong password":
        cert.pfx(tmp_path / "app.pfx", b"pfx-pass-1")
        return "app.pfx", "wrong-pass-777"
    assert case == "random bytes"
    (tmp_path / "app.p12").write_bytes(bytes(range(256)))
    return "app.p12", None


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", r"cannot read .*nowhere\.pem \(No such file or directory\)"),
        ("a folder", r"cannot read .*certs \(Is a directory\)"),
        ("not PEM", r"expected a PEM file with the private key and the certificate"),
        ("certificate only", r"\(no private key in it\)"),
        ("key only", r"\(no certificate in it\)"),
        ("foreign key", r"the private key does not belong to the certificate"),
        ("expired", r"the certificate expired on \d{4}-\d\d-\d\d"),
        ("not yet valid", r"the certificate is not valid before \d{4}-\d\d-\d\d"),
        ("encrypted, no password", r"the private key is encrypted: set certificate_password"),
        ("encrypted, wrong password", r"wrong certificate_password"),
        ("pfx, wrong password", r"not a readable PFX or wrong certificate_password"),
        ("random bytes", r"not a readable PFX"),
    ],
)
def test_an_unusable_certificate_file_is_refused_naming_the_key(
    tmp_path: Path, case: str, expected: str
) -> None:
    certificate, password = _cert_file(tmp_path, case)
    path = write(tmp_path / "p.toml", app_with(certificate, password))

    message = refused(path)

    assert message.startswith(f"{path}: credentials.certificate_file: "), message
    assert re.search(expected, message), message
    assert "wrong-pass-777" not in message
    assert "key-pass-42" not in message


def test_a_carriers_certificate_is_checked_too(tmp_path: Path) -> None:
    Cert().pem(tmp_path / "app.pem")
    Cert(start=-400, end=-1).pem(tmp_path / "ops.pem")
    path = write(
        tmp_path / "p.toml",
        app_with("app.pem") + f'\n[[credentials.carriers]]\nname = "ops"\nclient_id = "{APP}"\n'
        'certificate_file = "ops.pem"\n',
    )

    message = refused(path)

    assert message.startswith(f"{path}: credentials.carriers[0].certificate_file: "), message
    assert "expired" in message


def test_a_certificate_named_in_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERLINK_CREDENTIALS__CERTIFICATE_FILE", str(tmp_path / "gone.pem"))

    message = refused(write(tmp_path / "p.toml", f'[credentials]\nclient_id = "{APP}"\n'))

    assert message.startswith(
        "environment PARTNERLINK_CREDENTIALS__CERTIFICATE_FILE: credentials.certificate_file: "
    ), message


# ------------------------------------------------------------------------- blank secrets


SINKS = {
    "webhook": '[[alerts.sinks]]\nname = "hook"\ntype = "webhook"\n'
    'url = "https://hooks.example.com/x"\nsecret = "{value}"\n',
    "email": '[[alerts.sinks]]\nname = "mail"\ntype = "email"\nhost = "smtp.example.com"\n'
    'sender = "a@example.com"\nto = ["b@example.com"]\nusername = "a"\npassword = "{value}"\n',
}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[credentials]\nclient_secret = "{value}"\n', "credentials.client_secret"),
        ('[credentials]\ncertificate_password = "{value}"\n', "credentials.certificate_password"),
        (
            '[[credentials.carriers]]\nname = "ops"\nclient_secret = "{value}"\n',
            "credentials.carriers[0].client_secret",
        ),
        (SINKS["email"], "alerts.sinks[0].password"),
    ],
)
@pytest.mark.parametrize("value", ["", "   ", "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"])
def test_an_empty_or_blank_secret_is_refused(
    tmp_path: Path, text: str, key: str, value: str
) -> None:
    path = write(tmp_path / "p.toml", text.replace("{value}", value))

    message = refused(path)

    assert message.startswith(f"{path}: {key}: expected a secret, got an empty value"), message


def test_a_webhook_secret_of_sixteen_spaces_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", SINKS["webhook"].replace("{value}", " " * 20))

    message = refused(path)

    assert message.startswith(f"{path}: alerts.sinks[0].secret: expected a secret, got an empty")


def test_a_blank_secret_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERLINK_CREDENTIALS__CLIENT_SECRET", " ")

    message = refused(write(tmp_path / "p.toml", ""))

    assert message.startswith(
        "environment PARTNERLINK_CREDENTIALS__CLIENT_SECRET: credentials.client_secret: "
    ), message


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "secret.txt", "\n  \n")
    path = write(tmp_path / "p.toml", '[credentials]\nclient_secret_file = "secret.txt"\n')

    message = refused(path)

    assert message.startswith(f"{path}: credentials: client_secret_file "), message
    assert message.endswith("is empty: expected the secret in it"), message


# ------------------------------------------------------------------------- schedule


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 24 * * *", "the maximum value (23)"),
        ("61 2 * * *", "the maximum value (59)"),
        ("0 2 32 * *", "the maximum value (31)"),
        ("*/0 * * * *", "Increment must be higher than 0"),
        ("0 2 * * 8", "days of the week 0-7 or sun-sat, not 8"),
        ("0 2 * * funday", "funday"),
        ("0 2 30 2 *", "expected a cron that fires"),
        ("0 2 * *", "expected five cron fields"),
    ],
)
def test_a_cron_the_scheduler_rejects_is_refused(tmp_path: Path, cron: str, expected: str) -> None:
    path = write(tmp_path / "p.toml", f'[schedule]\ncron = "{cron}"\n')

    message = refused(path)

    assert message.startswith(f"{path}: schedule.cron: expected "), message
    assert expected in message


@pytest.mark.parametrize(
    "cron", ["0 2 * * *", "0 2 * * 7", "0 2 * * 0,7", "0 2 * * 1-5", "0 2 * * */2", "30 1 * * sun"]
)
def test_every_cron_the_check_accepts_is_one_the_daemon_can_schedule(
    tmp_path: Path, cron: str
) -> None:
    path = write(tmp_path / "p.toml", f'[schedule]\ncron = "{cron}"\ntimezone = "Europe/Berlin"\n')

    settings = load_settings(path)

    trigger = WallClockCronTrigger(
        **cron_fields(settings.schedule.cron), timezone=ZoneInfo(settings.schedule.timezone)
    )
    assert trigger is not None


@pytest.mark.parametrize("zone", ["utc", "Europe/Berlin ", "Etc/GMT+25", ""])
def test_an_unknown_time_zone_is_refused(tmp_path: Path, zone: str) -> None:
    path = write(tmp_path / "p.toml", f'[schedule]\ntimezone = "{zone}"\n')

    message = refused(path)

    assert message.startswith(f"{path}: schedule.timezone: expected an IANA time zone"), message


# ------------------------------------------------------------------------- placeholders


def test_the_starter_config_is_refused_until_its_placeholders_are_replaced() -> None:
    message = refused(EXAMPLE)

    assert message == (
        f"{EXAMPLE}: partner.tenant_id: replace the placeholder "
        "'00000000-0000-0000-0000-000000000000' with the partner's Entra tenant ID"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            f'[partner]\ntenant_id = "{TENANT}"\nglobal_partner_id = "1234567"\n',
            "global_partner_id",
        ),
        (
            f'[partner]\ntenant_id = "{TENANT}"\n[[partner.locations]]\npartner_id = "2345678"\n',
            "locations[0].partner_id",
        ),
        ('[credentials]\nclient_id = "11111111-1111-1111-1111-111111111111"\n', "client_id"),
        (
            '[[credentials.carriers]]\nname = "ops"\n'
            'client_id = "22222222-2222-2222-2222-222222222222"\n',
            "carriers[0].client_id",
        ),
        ('[repair]\npal_partner_id = "2345678"\n', "pal_partner_id"),
    ],
)
def test_each_placeholder_id_is_refused(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path / "p.toml", text)

    message = refused(path)

    assert re.match(
        rf"{re.escape(str(path))}: [a-z.]*{re.escape(key)}: replace the placeholder ", message
    ), message


@pytest.mark.parametrize("mode", ["fake", "emulator"])
def test_the_local_stand_ins_may_keep_the_placeholders(tmp_path: Path, mode: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'mode = "microsoft"', f'mode = "{mode}"\nscenario = "world.json"'
    )

    settings = load_settings(write(tmp_path / "p.toml", text))

    assert settings.partner.tenant_id == "00000000-0000-0000-0000-000000000000"


def test_a_config_that_does_not_set_the_tenant_is_not_taken_for_the_starter_file(
    tmp_path: Path,
) -> None:
    settings = load_settings(write(tmp_path / "p.toml", '[store]\ndata_dir = "d"\n'))

    assert isinstance(settings, Settings)


def test_every_id_of_the_example_is_a_known_placeholder() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    ids = set(re.findall(r"(?:_id|partner_id)\s*=\s*\"([0-9a-f-]+)\"", text))
    document = tomllib.loads(text)

    assert ids
    assert ids <= set(PLACEHOLDERS)
    assert document["partner"]["tenant_id"] in PLACEHOLDERS
