"""A socket server that answers each request head with raw bytes: the wire as the connectors'
transports meet it."""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

Answer = Callable[[bytes], bytes | None]
"""The raw answer to one request head and its body (``None``: hang up without answering)."""
_LENGTH = re.compile(rb"\r\ncontent-length: *([0-9]+)\r\n", re.IGNORECASE)


@asynccontextmanager
async def server(
    answer: Answer, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on a free port answering each request with ``answer(head)``; yields its origin
    and, per request, the number of the connection it came on."""
    seen: list[int] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        number = connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _LENGTH.search(head)
                if length is not None:  # the body is handed over with the head
                    head += await reader.readexactly(int(length.group(1)))
                seen.append(number)
                reply = answer(head)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield (f"{'https' if tls else 'http'}://127.0.0.1:{port}", seen)
    finally:
        srv.close()
