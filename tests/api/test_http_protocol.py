"""api/http_protocol.py: the writes of one loop turn leave as one send, on a real socket."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import httpx

from sp_services.api.http_protocol import _GatheringTransport
from tests.support import World


async def _pair() -> tuple[_GatheringTransport, socket.socket]:
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    return _GatheringTransport(transport, loop), peer  # type: ignore[arg-type]


def test_writes_of_one_turn_are_held_then_sent_together() -> None:
    async def scenario() -> None:
        gathering, peer = await _pair()
        gathering.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        gathering.write(memoryview(b"{}"))
        assert gathering.get_write_buffer_size() == 40
        try:
            peer.recv(1024)
            raise AssertionError("nothing may leave before the turn ends")
        except BlockingIOError:
            pass
        await asyncio.sleep(0.01)
        assert peer.recv(1024) == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
        gathering.write(b"last words")
        gathering.close()  # what is held goes out before the connection closes
        await asyncio.sleep(0.01)
        assert peer.recv(1024) == b"last words"
        assert peer.recv(1024) == b""  # then the end of the stream
        peer.close()

    asyncio.run(scenario())


def test_abort_drops_what_is_held() -> None:
    async def scenario() -> None:
        gathering, peer = await _pair()
        gathering.write(b"never sent")
        gathering.abort()
        await asyncio.sleep(0.01)
        assert peer.recv(1024) == b""
        peer.close()

    asyncio.run(scenario())


def test_the_server_answers_through_it(world: World) -> None:
    address = urlsplit(world.server.url)
    with socket.create_connection((address.hostname, address.port)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        head, _, body = conn.recv(65536).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: " in head.lower()
    assert body == httpx.get(f"{world.server.url}/healthz").content
