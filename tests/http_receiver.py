"""A real HTTP receiver on 127.0.0.1 for notifier and webhook tests: it records each POST."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """An HTTP server that answers each POST with the next planned status (then 200)."""

    plan: list[int | float] = field(default_factory=list)  # a float: sleep that long, then 200
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver serving until the block ends."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((self.path, dict(self.headers), json.loads(body)))
            step = state.plan.pop(0) if state.plan else 200
            if isinstance(step, float):
                time.sleep(step)
                step = 200
            try:
                self.send_response(step)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: the timeout test

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
