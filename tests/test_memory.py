"""agent.memory: glibc's arenas capped and free heap returned, where glibc is the allocator."""

from __future__ import annotations

import pytest

from agent import memory


def test_the_trimmer_releases_at_most_once_per_interval() -> None:
    now = [0.0]
    released: list[float] = []

    def release() -> bool:
        released.append(now[0])
        return True

    trimmer = memory.Trimmer(10.0, clock=lambda: now[0], release=release)
    for t in (1.0, 9.9, 10.0, 12.0, 19.9, 20.5, 45.0):
        now[0] = t
        trimmer.maybe()
    assert released == [10.0, 20.5, 45.0]


def test_an_explicit_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_arenas() is False


def test_on_glibc_the_arena_cap_applies_and_trim_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    if memory._glibc() is None:
        pytest.skip("the C library is not glibc: there is nothing to tune")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_arenas() is True
    garbage = [bytearray(64 * 1024) for _ in range(200)]
    del garbage
    memory.trim()  # returns whether memory was released; it must simply not fail
