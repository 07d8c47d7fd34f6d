"""The connectors' HTTP/1.1 transport against a real socket server that answers with raw bytes:
framing (length, chunked, until close), kept-alive connections, hang-ups and malformed answers
as httpx's own errors, header injection refused, TLS verified."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
import trustme

from connectors.http.client import make_client
from connectors.http.sync_transport import SyncHttp11Transport
from connectors.http.transport import Http11Transport
from tests.connectors.rawserver import Answer, server

pytestmark = pytest.mark.anyio


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> Answer:
    return lambda _head: (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def client(**kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=Http11Transport(ssl.create_default_context()), **kwargs)  # type: ignore[arg-type]


async def test_a_kept_alive_connection_serves_the_next_request() -> None:
    async with server(ok()) as (origin, seen), client() as http:
        for _ in range(3):
            answer = await http.get(f"{origin}/x")
            assert answer.status_code == 200
            assert answer.json() == {"ok": True}
    assert seen == [1, 1, 1]


async def test_a_chunked_answer_is_put_together() -> None:
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    async with server(lambda _h: reply) as (origin, seen), client() as http:
        assert (await http.get(f"{origin}/a")).content == b"hello world"
        assert (await http.get(f"{origin}/b")).content == b"hello world"
    assert seen == [1, 1]


async def test_an_answer_without_length_runs_until_the_close() -> None:
    reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"
    async with server(lambda _h: reply) as (origin, seen), client() as http:
        assert (await http.get(f"{origin}/a")).content == b"all of it"
        assert (await http.get(f"{origin}/b")).content == b"all of it"
    assert seen == [1, 2], "a connection closed by the server is not reused"


async def test_a_hang_up_without_an_answer_is_a_protocol_error() -> None:
    async with server(lambda _h: None) as (origin, _seen), client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{origin}/x")


async def test_a_body_cut_short_is_a_protocol_error() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort"
    async with server(lambda _h: reply) as (origin, _seen), client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{origin}/x")


@pytest.mark.parametrize(
    "reply",
    [
        b"NOT HTTP\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["status-line", "two-lengths", "not-chunked", "folded", "hex-prefix"],
)
async def test_a_malformed_answer_is_a_protocol_error(reply: bytes) -> None:
    async with server(lambda _h: reply) as (origin, _seen), client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{origin}/x")


async def test_an_oversized_head_is_refused() -> None:
    reply = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n"
    async with server(lambda _h: reply) as (origin, _seen), client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{origin}/x")


async def test_a_header_value_cannot_inject_a_header() -> None:
    async with server(ok()) as (origin, seen), client() as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.get(f"{origin}/x", headers={"MS-ContinuationToken": "a\r\nX-Evil: 1"})
    assert seen == [], "nothing was sent"


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        await asyncio.sleep(2)
        writer.close()

    srv = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        async with client(timeout=0.2) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(f"http://127.0.0.1:{port}/x")
    finally:
        srv.close()


async def test_a_refused_connection_is_a_connect_error() -> None:
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/x")


async def test_the_pool_holds_at_most_its_connections() -> None:
    async with server(ok()) as (origin, seen):
        transport = Http11Transport(ssl.create_default_context(), connections=2)
        async with httpx.AsyncClient(transport=transport) as http:
            answers = await asyncio.gather(*(http.get(f"{origin}/{i}") for i in range(10)))
    assert all(a.status_code == 200 for a in answers)
    assert set(seen) <= {1, 2}


async def test_tls_is_verified_against_the_given_authority(tmp_path: object) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(tls)
    bundle = f"{tmp_path}/ca.pem"
    ca.cert_pem.write_to_path(bundle)
    async with server(ok(), tls=tls) as (origin, _seen):
        async with make_client(bundle) as trusted:
            assert (await trusted.get(f"{origin}/x")).json() == {"ok": True}
        async with make_client() as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get(f"{origin}/x")


async def test_a_large_body_arrives_whole_through_paused_reads() -> None:
    body = bytes(range(256)) * 8192  # 2 MB: past the buffer's high-water mark many times
    async with server(ok(body)) as (origin, seen), client() as http:
        async with http.stream("GET", f"{origin}/big") as answer:
            pieces = [piece async for piece in answer.aiter_raw()]
        assert b"".join(pieces) == body
        assert (await http.get(f"{origin}/again")).content == body
    assert seen == [1, 1]


def _sync_get(origin: str, path: str, transport: SyncHttp11Transport) -> httpx.Response:
    with httpx.Client(transport=transport) as http:
        return http.get(f"{origin}{path}")


async def test_the_sign_in_transport_keeps_connections_and_reads_every_framing() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    answers = iter([ok()(b""), chunked, ok(b"third")(b"")])
    async with server(lambda _h: next(answers)) as (origin, seen):
        transport = SyncHttp11Transport(ssl.create_default_context())
        http = httpx.Client(transport=transport)
        first = await asyncio.to_thread(http.get, f"{origin}/a")
        second = await asyncio.to_thread(http.get, f"{origin}/b")
        third = await asyncio.to_thread(http.get, f"{origin}/c")
        await asyncio.to_thread(http.close)
    assert (first.json(), second.content, third.content) == ({"ok": True}, b"abc", b"third")
    assert seen == [1, 1, 1], "one kept-alive connection"


async def test_the_sign_in_transport_maps_a_hang_up_and_a_cut_body() -> None:
    transport = SyncHttp11Transport(ssl.create_default_context())
    async with server(lambda _h: None) as (origin, _seen):
        with pytest.raises(httpx.RemoteProtocolError):
            await asyncio.to_thread(_sync_get, origin, "/x", transport)
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc"
    async with server(lambda _h: cut) as (origin, _seen):
        with pytest.raises(httpx.RemoteProtocolError):
            await asyncio.to_thread(_sync_get, origin, "/x", transport)


async def test_each_wait_of_a_kept_connection_has_its_own_read_timeout() -> None:
    answers = iter([ok()(b""), ok()(b"")])

    def answer(_head: bytes) -> bytes | None:
        reply = next(answers, b"")  # the third request is never answered
        return reply or b""

    async with server(answer) as (origin, seen), client(timeout=0.3) as http:
        assert (await http.get(f"{origin}/a")).status_code == 200
        await asyncio.sleep(0.2)  # past most of the first wait's timeout: it must not carry over
        assert (await http.get(f"{origin}/b")).status_code == 200
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{origin}/c")
        waited = asyncio.get_running_loop().time() - started
    assert seen == [1, 1, 1]
    assert 0.25 < waited < 1.0
