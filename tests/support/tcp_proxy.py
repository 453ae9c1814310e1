"""A loopback TCP proxy that can delay, blackhole or refuse traffic on demand.

The proxy runs its own event loop in a daemon thread, so it keeps moving
bytes while the test's loop is blocked or the test's process is busy, and
its controls can be called from sync and async test code alike.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Literal, Self, get_args

Mode = Literal["pass", "blackhole", "refuse"]
MODES: frozenset[str] = frozenset(get_args(Mode))

CONTROL_TIMEOUT = 5.0
_CHUNK_SIZE = 65536
# SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
_LINGER_RESET = struct.pack("ii", 1, 0)

_Chunk = tuple[float, bytes]


class _Link:
    """One accepted client connection and, once connected, its upstream side."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.dropped = False

    def writers(self) -> list[asyncio.StreamWriter]:
        """Return the writers of both sides that exist."""
        return [w for w in (self.client, self.upstream) if w is not None]

    def reset(self) -> None:
        """Close both sides abruptly, with RST rather than FIN."""
        for writer in self.writers():
            _reset(writer)

    async def close(self) -> None:
        """Close both sides gracefully and wait until their sockets are closed."""
        for writer in self.writers():
            writer.close()

        for writer in self.writers():
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class TcpProxy:
    """Forward 127.0.0.1:port to a target, with switchable failure modes.

    Modes: ``"pass"`` forwards; ``"blackhole"`` keeps connections open and
    accepts new ones but drops every byte both ways; ``"refuse"`` resets all
    connections and resets each new one at once. The port is chosen at the
    first ``start()`` and kept across ``stop()`` and a later ``start()``.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._mode: Mode = "pass"
        self._delay = 0.0
        self._port: int | None = None
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the port the proxy listens on."""
        if self._port is None:
            raise RuntimeError("the proxy has not been started")
        return self._port

    @property
    def url_for_redis(self) -> str:
        """Return a redis:// URL for database 0 through the proxy."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def mode(self) -> Mode:
        """Return the current mode."""
        return self._mode

    @property
    def delay(self) -> float:
        """Return the latency added to each chunk, in seconds."""
        return self._delay

    @property
    def connection_count(self) -> int:
        """Return how many client connections the proxy holds open."""
        return len(self._links)

    def start(self, timeout: float = CONTROL_TIMEOUT) -> None:
        """Start the loop thread and wait until the proxy listens."""
        if self._thread is not None:
            raise RuntimeError("the proxy is already running")

        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=asyncio.run,
            args=(self._main(ready),),
            name=f"tcp-proxy-{self._target[1]}",
            daemon=True,
        )
        self._thread.start()

        try:
            self._port = ready.result(timeout=timeout)
        except BaseException:
            self.stop(timeout)
            raise

    def stop(self, timeout: float = CONTROL_TIMEOUT) -> None:
        """Close every connection and the listener, then end the loop thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return

        if loop is not None and stopping is not None and thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"proxy thread still running after {timeout} s")

        self._thread = self._loop = self._stopping = None

    def set_mode(self, mode: Mode) -> None:
        """Switch mode; on "refuse", return once existing connections are reset."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")

        # A plain attribute: each chunk reads it on the loop thread, and
        # assignment is atomic, so no hand-off to the loop is needed.
        self._mode = mode
        if mode == "refuse":
            self.close_all()

    def set_delay(self, seconds: float) -> None:
        """Add seconds of latency to every chunk in both directions (0 for none)."""
        if seconds < 0:
            raise ValueError(f"delay must not be negative, not {seconds}")
        self._delay = seconds

    def close_all(self) -> None:
        """Reset every open connection and wait until they are gone."""
        self._in_loop(self._drop_links)

    def _in_loop(self, action: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run action on the proxy loop and wait for it; do nothing if stopped."""
        loop = self._loop
        if loop is None:
            return

        future = asyncio.run_coroutine_threadsafe(action(), loop)
        future.result(timeout=CONTROL_TIMEOUT)

    async def _main(self, ready: concurrent.futures.Future[int]) -> None:
        """Listen, report the port, and serve until asked to stop."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()

        try:
            server = await asyncio.start_server(
                self._serve, "127.0.0.1", self._port or 0
            )
        except OSError as error:
            ready.set_exception(error)
            return

        ready.set_result(server.sockets[0].getsockname()[1])
        await self._stopping.wait()

        server.close()
        await self._drop_links()
        await server.wait_closed()

    async def _drop_links(self) -> None:
        """Reset all links, cancel their tasks and wait for them to finish."""
        links = list(self._links)

        for link in links:
            link.dropped = True
            link.reset()
            link.task.cancel()

        await asyncio.gather(*(link.task for link in links), return_exceptions=True)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Handle one accepted connection for its whole life."""
        link = _Link(writer)
        self._links.add(link)

        try:
            await self._handle(link, reader)
        except OSError:
            link.reset()
        except asyncio.CancelledError:
            # Python 3.11 logs an error when this task ends cancelled
            # (gh-113538, fixed in 3.12), so a drop we asked for ends normally.
            if not link.dropped:
                raise
        finally:
            self._links.discard(link)
            await link.close()

    async def _handle(self, link: _Link, reader: asyncio.StreamReader) -> None:
        """Treat a new connection according to the mode at accept time."""
        if self._mode == "refuse":
            link.reset()
            return
        if self._mode == "blackhole":
            await _discard(reader)
            return

        upstream_reader, link.upstream = await asyncio.open_connection(*self._target)
        await asyncio.gather(
            self._carry(reader, link.upstream, link),
            self._carry(upstream_reader, link.client, link),
        )

    async def _carry(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: _Link,
    ) -> None:
        """Move bytes one way until EOF; reset the link if either side fails."""
        queue: asyncio.Queue[_Chunk | None] = asyncio.Queue()
        sender = asyncio.create_task(self._deliver(queue, sink, link))

        try:
            await self._collect(source, queue)
            await sender
        except OSError:
            link.reset()
        finally:
            sender.cancel()

    async def _collect(
        self, source: asyncio.StreamReader, queue: asyncio.Queue[_Chunk | None]
    ) -> None:
        """Queue each chunk read in pass mode with its due time; queue None at EOF."""
        loop = asyncio.get_running_loop()

        while chunk := await source.read(_CHUNK_SIZE):
            if self._mode == "pass":
                queue.put_nowait((loop.time() + self._delay, chunk))

        queue.put_nowait(None)

    async def _deliver(
        self,
        queue: asyncio.Queue[_Chunk | None],
        sink: asyncio.StreamWriter,
        link: _Link,
    ) -> None:
        """Write queued chunks to sink; reset the link if sink fails."""
        try:
            await self._write_due(queue, sink)
        except OSError:
            link.reset()

    async def _write_due(
        self, queue: asyncio.Queue[_Chunk | None], sink: asyncio.StreamWriter
    ) -> None:
        """Write queued chunks in order once due; pass EOF on at the end."""
        loop = asyncio.get_running_loop()

        while (item := await queue.get()) is not None:
            due, chunk = item
            if (pending := due - loop.time()) > 0:
                await asyncio.sleep(pending)
            # Bytes in flight when the link goes dark are lost, as on a network.
            if self._mode == "pass":
                sink.write(chunk)
                await sink.drain()

        if self._mode == "pass" and sink.can_write_eof():
            sink.write_eof()


async def _discard(reader: asyncio.StreamReader) -> None:
    """Read and drop everything until EOF."""
    while await reader.read(_CHUNK_SIZE):
        pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort the connection so the peer sees RST."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    writer.transport.abort()
