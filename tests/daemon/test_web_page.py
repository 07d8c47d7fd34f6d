"""The report at ``/`` is rendered once per cycle and served from memory: requests never render
it (a large estate takes seconds of CPU), before the first cycle they get a short notice."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from agent.daemon import Daemon
from tests.daemon.webworld import NAMES, serving, write_agent

GETS = 25


class CountingDaemon(Daemon):
    """A daemon that counts the report renders (the expensive part)."""

    renders = 0

    def report_page(self) -> str:
        self.renders += 1
        return super().report_page()


def _agent(folder: Path) -> Path:
    return write_agent(folder, "report_anonymous = true\n")


def test_many_gets_after_a_cycle_render_the_report_once(tmp_path: Path) -> None:
    with serving(CountingDaemon, _agent(tmp_path)) as (daemon, url):
        assert isinstance(daemon, CountingDaemon)
        before = httpx.get(url + "/")
        assert before.status_code == 503
        assert "No report yet" in before.text
        assert daemon.renders == 0, "a request before any cycle renders nothing"

        daemon.cycle()
        assert daemon.renders == 1
        with httpx.Client(base_url=url) as client:
            pages = [client.get("/") for _ in range(GETS)]
            tags = {page.headers["ETag"] for page in pages}
            assert all(page.status_code == 200 for page in pages)
            assert len({page.content for page in pages}) == 1 and len(tags) == 1
            assert all(name in pages[0].text for name in NAMES)
            assert daemon.renders == 1, f"{GETS} GETs, one render"
            again = client.get("/", headers={"If-None-Match": tags.pop()})
            assert again.status_code == 304 and again.content == b""

        daemon.cycle()
        assert daemon.renders == 2, "the next cycle renders the next page"


def test_the_page_changes_only_when_a_cycle_ends(tmp_path: Path) -> None:
    with serving(Daemon, _agent(tmp_path)) as (daemon, url):
        daemon.cycle()
        first = httpx.get(url + "/")
        time.sleep(1.1)  # the report states when it was generated, to the second
        assert httpx.get(url + "/").content == first.content, "no render between cycles"
        daemon.cycle()
        assert httpx.get(url + "/").headers["ETag"] != first.headers["ETag"]


def test_a_restarted_daemon_renders_the_last_cycles_report_once_without_a_request(
    tmp_path: Path,
) -> None:
    config = _agent(tmp_path)
    with serving(Daemon, config) as (daemon, _url):
        daemon.cycle()
    with serving(CountingDaemon, config) as (daemon, url):
        assert isinstance(daemon, CountingDaemon)
        deadline = time.monotonic() + 20
        while daemon.page.current() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert daemon.renders == 1
        assert all(name in httpx.get(url + "/").text for name in NAMES)
        assert daemon.renders == 1


def test_the_page_goes_gzipped_to_a_client_that_takes_gzip_and_whole_to_one_that_does_not(
    tmp_path: Path,
) -> None:
    with serving(Daemon, write_agent(tmp_path, "report_anonymous = true\n")) as (daemon, url):
        daemon.cycle()
        packed = httpx.get(url + "/", headers={"Accept-Encoding": "gzip"})
        whole = httpx.get(url + "/", headers={"Accept-Encoding": "identity"})
        refused = httpx.get(url + "/", headers={"Accept-Encoding": "gzip;q=0"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.text == whole.text and all(name in packed.text for name in NAMES)
    assert "Content-Encoding" not in whole.headers and "Content-Encoding" not in refused.headers
    assert int(packed.headers["Content-Length"]) < len(whole.content) / 3
    assert packed.headers["ETag"] != whole.headers["ETag"]
    assert packed.headers["Vary"] == "Accept-Encoding"
