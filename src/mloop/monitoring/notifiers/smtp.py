"""E-mail through an SMTP server (:mod:`smtplib`): plain, STARTTLS or SSL, with a login.

The password is a secret: in a spec it must be a reference,
``{"kind": "smtp", ..., "password": "${SMTP_PASSWORD}"}``.

Example:
    >>> SmtpNotifier("mail.example.org", sender="mloop@example.org", to=["ops@example.org"],
    ...              username="mloop", password="s3cret")
    SmtpNotifier(host='mail.example.org', port=587, security='starttls', to=['ops@example.org'])
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from mloop.errors import InvalidInput, NotificationFailed
from mloop.monitoring.alerts import Alert
from mloop.monitoring.notifiers.webhook import group_status

SECURITY = ("starttls", "ssl", "none")
"""How the connection is protected: STARTTLS after connecting, TLS from the start, or not."""

_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def email_message(alerts: Sequence[Alert], *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The e-mail for ``alerts``: a subject line that counts them, one paragraph each.

    Example:
        >>> from mloop.monitoring.alerts import Alert
        >>> message = email_message([Alert("drift", summary="amount drifted")],
        ...                         sender="a@example.org", to=["b@example.org"])
        >>> message["Subject"]
        '[mloop FIRING] drift: amount drifted'
    """
    status = group_status(alerts).upper()
    if len(alerts) == 1:
        only = alerts[0]
        subject = f"[mloop {status}] {only.name}" + (f": {only.summary}" if only.summary else "")
    else:
        subject = f"[mloop {status}] {len(alerts)} alerts"
    paragraphs = []
    for alert in alerts:
        lines = [f"[{alert.state.upper()}] {alert.name} ({alert.severity}) {alert.summary}"]
        lines += [alert.description] if alert.description else []
        lines += [f"  {k}: {v}" for k, v in sorted(alert.labels.items())]
        lines += [f"  {k} = {v:g}" for k, v in sorted(alert.values.items())]
        lines.append(f"  since {alert.started_at.isoformat()}")
        lines += [f"  until {alert.ended_at.isoformat()}"] if alert.ended_at else []
        lines += [f"  {alert.url}"] if alert.url else []
        paragraphs.append("\n".join(lines))
    message = EmailMessage()
    message["Subject"] = subject.strip()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content("\n\n".join(paragraphs) + "\n")
    return message


class SmtpNotifier:
    """Sends alerts as one e-mail per batch.

    Args:
        host: the SMTP server.
        port: default 587 for ``starttls``, 465 for ``ssl``, 25 for ``none``.
        sender: the ``From`` address.
        to: the recipients.
        security: ``starttls`` (default), ``ssl`` or ``none``.
        username: log in as this user (with ``password``); no login when empty.
        password: the password; in a spec, a reference such as ``${SMTP_PASSWORD}``.
        timeout: seconds to wait for the server at each step.
    """

    kind = "smtp"
    secret_options: tuple[str, ...] = ("password",)

    def __init__(
        self,
        host: str,
        *,
        sender: str,
        to: Sequence[str],
        port: int | None = None,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
    ) -> None:
        if security not in SECURITY:
            raise InvalidInput(f"smtp: security {security!r} is not one of {', '.join(SECURITY)}")
        if isinstance(to, str) or not to:
            raise InvalidInput("smtp: 'to' must be a non-empty list of addresses")
        if bool(username) != bool(password):
            raise InvalidInput("smtp: give both username and password, or neither")
        self.host = host
        self.port = port if port is not None else _PORTS[security]
        self.security = security
        self.sender = sender
        self.to = list(to)
        self.username = username
        self._password = password
        self.timeout = timeout

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.host!r}, port={self.port}, "
            f"security={self.security!r}, to={self.to!r})"
        )

    def send(self, alerts: Sequence[Alert]) -> None:
        """E-mail ``alerts``; nothing is sent for an empty list.

        Raises:
            NotificationFailed: the server could not be reached, refused the login
                or the message; the text holds neither the password nor the server's reply.
        """
        if not alerts:
            return
        message = email_message(alerts, sender=self.sender, to=self.to)
        where = f"smtp: {self.host}:{self.port}"
        try:
            with self._connect() as client:
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self._password)
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as err:
            raise NotificationFailed(
                f"{where} refused the login of {self.username!r} (SMTP {err.smtp_code}); "
                "check the user and the password variable"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise NotificationFailed(
                f"{where} does not offer {self.security.upper()} or a login; "
                "choose another security= or port"
            ) from None
        except smtplib.SMTPResponseException as err:
            raise NotificationFailed(f"{where} answered SMTP {err.smtp_code}") from None
        except smtplib.SMTPException as err:
            raise NotificationFailed(f"{where} failed: {type(err).__name__}") from None
        except (TimeoutError, OSError) as err:
            text = err.strerror or type(err).__name__
            raise NotificationFailed(f"{where} could not be reached ({text})") from None

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
