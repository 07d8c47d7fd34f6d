"""``[http] public_url`` and ``[http.sign_in]``: checked when the config loads, each problem one
config error naming the key; the secrets come from files beside the config or the
environment and stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_settings, redacted, register_secrets
from agent.logging import scrub

APP = "a9900000-0000-4000-8000-0000000000a1"
KEY = "0123456789abcdef0123456789abcdef-key"


def _config(folder: Path, http: str, sign_in: str | None = None) -> Path:
    path = folder / "partnerlink.toml"
    text = "[http]\n" + http
    if sign_in is not None:
        text += f'[http.sign_in]\nclient_id = "{APP}"\n' + sign_in
    path.write_text(text)
    return path


GOOD = 'client_secret_file = "app-secret"\nsession_key_file = "session-key"\n'
GOOD += 'operators = ["Ana@Partner.example"]\nviewers = ["*"]\n'


def _secrets(folder: Path) -> None:
    (folder / "app-secret").write_text("app-secret-value\n")
    (folder / "session-key").write_text(KEY + "\n")


def test_sign_in_reads_its_secrets_beside_the_config_and_keeps_them_secret(
    tmp_path: Path,
) -> None:
    _secrets(tmp_path)
    settings = load_settings(_config(tmp_path, 'public_url = "https://pl.example.com/"\n', GOOD))
    sign_in = settings.http.sign_in
    assert sign_in is not None and settings.http.public_url == "https://pl.example.com"
    assert sign_in.client_secret is not None and sign_in.session_key is not None
    assert sign_in.client_secret.get_secret_value() == "app-secret-value"
    assert sign_in.session_key.get_secret_value() == KEY
    assert sign_in.operators == ["ana@partner.example"] and settings.http.secure_cookies
    shown = str(redacted(settings))
    assert "app-secret-value" not in shown and KEY not in shown
    register_secrets(settings)
    assert "app-secret-value" not in scrub(f"oops app-secret-value and {KEY}")


@pytest.mark.parametrize(
    ("http", "sign_in", "said"),
    [
        (
            'public_url = "https://x.example/path"\n',
            None,
            "http.public_url: expected the page's origin",
        ),
        ('public_url = "ftp://x.example"\n', None, "http.public_url"),
        ("", GOOD, "sign_in needs public_url"),
        ('public_url = "https://x.example"\n', 'operators = ["*"]\n', "client_secret_file"),
        (
            'public_url = "https://x.example"\n',
            'client_secret = "s3cret-x"\n',
            "name at least one of operators or viewers",
        ),
        (
            'public_url = "https://x.example"\n',
            'client_secret = "s3cret-x"\noperators = ["ana"]\n',
            "expected a user principal name",
        ),
        (
            'public_url = "https://x.example"\n',
            'client_secret = "s3cret-x"\nviewers = ["*"]\nsession_key = "short"\n',
            "session key is shorter than 32",
        ),
        (
            'public_url = "https://x.example"\n',
            'client_secret = "s3cret-x"\nviewers = ["*"]\nsession_lifetime = "30d"\n',
            "between 5m and 7d",
        ),
        ('public_url = "http://pl.example.com"\n', GOOD, "only for a page on this machine"),
    ],
    ids=[
        "public url with a path",
        "public url not http",
        "sign-in without a public url",
        "no client secret",
        "nobody named",
        "not a name or id",
        "short session key",
        "session too long",
        "plain http elsewhere than this machine",
    ],
)
def test_a_sign_in_that_cannot_work_is_one_error_naming_the_key(
    tmp_path: Path, http: str, sign_in: str | None, said: str
) -> None:
    _secrets(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, http, sign_in))
    message = str(caught.value)
    assert said in message and "\n" not in message
    assert "s3cret-x" not in message, "a secret given is never echoed"
