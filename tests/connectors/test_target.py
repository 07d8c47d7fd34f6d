"""A request's destination read without httpx's parse is the one httpx reads: for the plain URLs
the connectors send and for anything else (which goes through httpx's parse)."""

from __future__ import annotations

import random
import string

import httpx
import pytest

from connectors.http.target import target_of

URLS = [
    "https://graph.microsoft.com/v1.0/contracts?$top=999&$filter=x%20eq%20'a'",
    "https://127.0.0.1:8443/a/b?c=d",
    "https://127.0.0.1:443/a",
    "HTTPS://Graph.Microsoft.com/a",
    "https://h/a/./b",
    "https://h/a/../b",
    "https://h/a/..",
    "https://h/.well-known/x",
    "https://h/a b",
    "https://h/a#f",
    "https://u:p@h/a",
    "https://h",
    "https://h/caf\u00e9",
    "https://h/a?b c",
    "https://h/a?x=%zz%",
    "https://[::1]:8080/x?y",
    "https://h/a{b}",
    "https://h/a?{b}",
    "https://h/a`?`",
    "http://h:80/x",
    "https://H:0443/x",
    "https://h:99999/x",
    "https://999.1.1.1/x",
    "ftp://h/x",
    "https://h/x\r\nX-Evil: 1",
]


def _httpx(url: str) -> object:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return (httpx.InvalidURL, str(exc))
    return (parsed.scheme, parsed.host, parsed.port, parsed.netloc, parsed.raw_path)


def _ours(url: str) -> object:
    try:
        target = target_of(url)
    except httpx.InvalidURL as exc:
        return (httpx.InvalidURL, str(exc))
    return (target.scheme, target.host, target.port, target.netloc, target.target)


@pytest.mark.parametrize("url", URLS)
def test_a_url_is_read_as_httpx_reads_it(url: str) -> None:
    assert _ours(url) == _httpx(url)


def test_random_urls_are_read_as_httpx_reads_them() -> None:
    rng = random.Random(16)
    alphabet = string.printable + "\u00e9\x00\x7f\u2028"
    origins = [
        "https://graph.microsoft.com/",
        "https://127.0.0.1:9/",
        "http://a.b/",
        "https://x:443/",
    ]
    for _ in range(5000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        url = rng.choice(origins) + tail
        assert _ours(url) == _httpx(url), url
