"""Notifiers: where alerts go. Built from a spec by kind; third parties add kinds.

Built-in kinds: ``webhook`` (mloop's JSON), ``slack`` (incoming webhook),
``alertmanager`` (Alertmanager's webhook format), ``smtp`` (e-mail) and
``log``. A package adds its own under the ``mloop.notifiers`` entry-point
group, naming a class (or factory) that takes the spec's options as keyword
arguments and returns a :class:`~mloop.monitoring.notifiers.base.Notifier`.

A spec is plain data that may be stored, so secrets in it are references to
environment variables (``${NAME}``), resolved by :func:`notifier_from`:

Example:
    >>> notifier_from({"kind": "slack", "url": "${SLACK_WEBHOOK_URL}"},
    ...               environ={"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X"})
    SlackNotifier(url='https://hooks.slack.com/services/***')
    >>> notifier_from({"kind": "slack", "url": "https://hooks.slack.com/services/T/B/X"})
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: slack: option 'url' is a secret and holds its value; ...
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from mloop.errors import InvalidInput
from mloop.masking import has_credentials
from mloop.monitoring.notifiers.base import Notifier, shown_url
from mloop.monitoring.notifiers.references import is_reference, resolve
from mloop.plugins import Registry

__all__ = ["Notifier", "check_notifier_spec", "notifier_from", "registry", "shown_url"]

registry = Registry(
    "mloop.notifiers",
    {
        "webhook": "mloop.monitoring.notifiers.webhook:WebhookNotifier",
        "slack": "mloop.monitoring.notifiers.slack:SlackNotifier",
        "alertmanager": "mloop.monitoring.notifiers.alertmanager:AlertmanagerNotifier",
        "smtp": "mloop.monitoring.notifiers.smtp:SmtpNotifier",
        "log": "mloop.monitoring.notifiers.log:LogNotifier",
    },
)
"""Notifier classes (or factories taking the spec's options) by kind."""


def notifier_from(spec: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Notifier:
    """Build the notifier a spec describes: ``{"kind": ..., **options}``.

    ``${NAME}`` in any string option is replaced by the environment variable
    ``NAME``. Options the notifier declares secret (a Slack URL, an SMTP
    password, webhook headers) must be such references; so must any value
    holding a URL password or a token query parameter.

    Args:
        spec: the kind and the notifier's options.
        environ: where references are read (default the process's environment).

    Raises:
        InvalidInput: no or an unknown kind, an option the kind does not take,
            a secret written out, or a reference to a variable that is not set.
    """
    factory, options = _options(spec, environ)
    notifier: Notifier = factory(**options)
    return notifier


def check_notifier_spec(spec: Mapping[str, Any]) -> None:
    """Check a spec as :func:`notifier_from` does, without reading the variables it names.

    For a spec about to be stored: its kind is known, its options fit and
    hold what the notifier takes (a URL that is not http or https is
    refused), and its secrets are ``${NAME}`` references (set or not, here:
    they are read when an alert is sent).

    Example:
        >>> check_notifier_spec({"kind": "webhook", "url": "${HOOK_URL}"})
        >>> check_notifier_spec({"kind": "pager"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: unknown mloop.notifiers plugin 'pager'; ...
    """
    factory, options = _options(spec, _Unread())
    factory(**options)  # builds nothing but the object: it checks its options


class _Unread(Mapping[str, str]):
    """An environment in which every variable is set (to a placeholder): nothing is read."""

    def __getitem__(self, name: str) -> str:
        return "https://unread.invalid/unread"

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


def _options(
    spec: Mapping[str, Any], environ: Mapping[str, str] | None
) -> tuple[Any, dict[str, Any]]:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("kind"), str):
        raise InvalidInput('a notifier spec is a mapping with a "kind", e.g. {"kind": "log"}')
    kind = spec["kind"]
    factory = registry.load(kind)
    secret = frozenset(getattr(factory, "secret_options", ()))
    options = {
        name: _resolved(value, who=kind, option=name, secret=name in secret, environ=environ)
        for name, value in spec.items()
        if name != "kind"
    }
    try:
        inspect.signature(factory).bind(**options)
    except TypeError:
        taken = [
            p.name
            for p in inspect.signature(factory).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        unknown = sorted(set(options) - set(taken))
        what = f"no option {unknown[0]!r}" if unknown else f"options {sorted(options)} do not fit"
        raise InvalidInput(f"{kind}: {what}; it takes {', '.join(taken)}") from None
    return factory, options


def _resolved(
    value: Any, *, who: str, option: str, secret: bool, environ: Mapping[str, str] | None
) -> Any:
    if isinstance(value, str):
        if not is_reference(value) and (secret or has_credentials(value)):
            raise InvalidInput(
                f"{who}: option {option!r} is a secret and holds its value; put the value in "
                'an environment variable and write "${NAME}" instead'
            )
        return resolve(value, who=who, option=option, environ=environ)
    if isinstance(value, Mapping):
        return {
            key: _resolved(item, who=who, option=f"{option}.{key}", secret=secret, environ=environ)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            _resolved(item, who=who, option=option, secret=secret, environ=environ)
            for item in value
        ]
    return value
