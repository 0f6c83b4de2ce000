"""A small HTTP/1.1 server on anyio: keep-alive, Content-Length and chunked request
bodies, one request at a time per connection (what the SDKs' httpx2 pools send)."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import anyio
from anyio.abc import ByteStream
from anyio.streams.buffered import BufferedByteReceiveStream

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_REASONS = {529: "Site Overloaded"}


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(), dict(headers or {}))


@dataclass
class Hang:
    """Answer nothing for `seconds` or until the client gives up, then `then`."""

    seconds: float
    then: Response


@dataclass
class Trickle:
    """Send `response` whole, its body one byte every `seconds_per_byte`."""

    seconds_per_byte: float
    response: Response


Handler = Callable[[Request], Awaitable[Response | Hang | Trickle]]


class BadRequest(Exception):
    pass


async def _read_request(buf: BufferedByteReceiveStream) -> Request:
    head = await buf.receive_until(b"\r\n\r\n", MAX_HEAD)
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise BadRequest(f"bad request line {lines[0]!r}") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    path, _, query = target.partition("?")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size_line = await buf.receive_until(b"\r\n", 1024)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await buf.receive_until(b"\r\n", MAX_HEAD)  # trailers end
                break
            chunks.append(await buf.receive_exactly(size))
            await buf.receive_exactly(2)
        body = b"".join(chunks)
    else:
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            raise BadRequest("body too large")
        body = await buf.receive_exactly(length) if length else b""
    return Request(method.upper(), path, query, headers, body)


def _encode(response: Response, keep_alive: bool) -> bytes:
    reason = _REASONS.get(response.status)
    if reason is None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
    headers = {
        "content-type": response.content_type,
        "content-length": str(len(response.body)),
        "connection": "keep-alive" if keep_alive else "close",
        **response.headers,
    }
    head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + response.body


async def serve_connection(stream: ByteStream, handler: Handler) -> None:
    buf = BufferedByteReceiveStream(stream)
    async with stream:
        while True:
            try:
                request = await _read_request(buf)
            except (
                anyio.EndOfStream,
                anyio.IncompleteRead,
                anyio.BrokenResourceError,
                anyio.ClosedResourceError,
                anyio.DelimiterNotFound,
                ConnectionError,
            ):
                return
            except (BadRequest, ValueError):
                await _send(
                    stream, Response.json(400, {"error": {"message": "bad HTTP request"}}), False
                )
                return
            keep_alive = request.headers.get("connection", "").lower() != "close"
            try:
                result = await handler(request)
            except Exception as e:  # a bug in the fake: say so instead of dying mid-test
                traceback.print_exc(file=sys.stderr)
                result = Response.json(500, {"error": {"message": f"fake provider bug: {e!r}"}})
            if isinstance(result, Hang):
                # Wait out the hang, but stop as soon as the client hangs up.
                with anyio.move_on_after(result.seconds):
                    try:
                        await buf.receive(1)
                    except (
                        anyio.EndOfStream,
                        anyio.BrokenResourceError,
                        anyio.ClosedResourceError,
                        ConnectionError,
                    ):
                        return
                    return  # the client sent something mid-request: not a client we model
                result = result.then
            if isinstance(result, Trickle):
                if not await _trickle(stream, result, keep_alive) or not keep_alive:
                    return
                continue
            if not await _send(stream, result, keep_alive) or not keep_alive:
                return


async def _trickle(stream: ByteStream, trickle: Trickle, keep_alive: bool) -> bool:
    """The head at once, then the body a byte at a time: every read the client makes
    returns within its read timeout, so only a total deadline stops it."""
    data = _encode(trickle.response, keep_alive)
    head_end = data.index(b"\r\n\r\n") + 4
    try:
        await stream.send(data[:head_end])
        for i in range(head_end, len(data)):
            await anyio.sleep(trickle.seconds_per_byte)
            await stream.send(data[i : i + 1])
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        return False
    return True


async def _send(stream: ByteStream, response: Response, keep_alive: bool) -> bool:
    try:
        await stream.send(_encode(response, keep_alive))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionError):
        return False
    return True
