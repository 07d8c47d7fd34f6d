"""Every config test starts clean: no PARTNERLINK_* variable of the caller, no ./partnerlink.toml."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PARTNERLINK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
