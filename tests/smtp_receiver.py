"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the e-mail tests: it keeps what it receives."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class Inbox:
    """The envelopes the server received, in order."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(  # noqa: N802 (aiosmtpd calls it by this name)
        self, server: object, session: object, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@contextlib.contextmanager
def receiving_mail(authenticator: Callable[..., Any] | None = None) -> Iterator[tuple[Inbox, int]]:
    """An SMTP server until the block ends: its inbox and its port (logins checked, if given)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    options: dict[str, Any] = {"hostname": "127.0.0.1", "port": port, "ready_timeout": 5}
    if authenticator is not None:
        options.update(authenticator=authenticator, auth_require_tls=False)
    controller = Controller(inbox, **options)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
