"""A TCP relay on 127.0.0.1 to a server's port, as a port forward or a slow link would be.

The deploy tests reach a server through it the way a region reaches one behind NAT (another
port than sshd's), and bench/deploy.py adds latency with it (this kernel has no netem).
"""

from __future__ import annotations

import asyncio
import threading


class Relay:
    """Listens on 127.0.0.1:`port` (chosen by the system) and relays to host:port.

    With `delay`, every chunk is delivered that many seconds late, each way: latency, not a
    bandwidth cap. Runs in a daemon thread for the life of the process.
    """

    def __init__(self, host: str, port: int, delay: float = 0.0) -> None:
        self.target, self.delay = (host, port), delay
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait()

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while chunk := await reader.read(65536):
                if self.delay:
                    loop.call_later(self.delay, writer.write, chunk)  # in order: the delay is constant
                else:
                    writer.write(chunk)
            await asyncio.sleep(self.delay)
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()  # the server does not answer: so does the relay
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
