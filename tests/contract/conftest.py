"""Fixtures of the contract tests (samples and fake-vs-live): the async backend."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
