"""Dataset references: ``name``, ``name@latest``, ``name@3``, ``name@<tag>``.

Example:
    >>> parse_ref("credit@3")
    DatasetRef(name='credit', version=3, tag=None)
    >>> parse_ref("credit@prod").tag
    'prod'
"""

from __future__ import annotations

import re

from mloop.entities import DatasetRef
from mloop.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][\w\-.]{0,255}$")
_TAG = re.compile(r"^[A-Za-z_][\w\-.]{0,249}$")


def check_name(name: object) -> str:
    """A dataset name: letters, digits, ``_ - .``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"invalid dataset name {name!r}: use up to 256 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def check_tag(tag: object) -> str:
    """A version tag: starts with a letter or '_' (so it never looks like a version number)."""
    if not isinstance(tag, str) or not _TAG.match(tag) or tag == "latest":
        raise InvalidInput(
            f"invalid dataset tag {tag!r}: start with a letter or '_', then letters, digits, "
            "'_', '-' or '.'; 'latest' is reserved"
        )
    return tag


def parse_ref(ref: object) -> DatasetRef:
    """Parse ``name[@latest|@N|@tag]``.

    Raises:
        InvalidInput: the reference is malformed.
    """
    if not isinstance(ref, str):
        raise InvalidInput(f"a dataset reference is a string like 'credit@3', got {ref!r}")
    name, sep, selector = ref.partition("@")
    check_name(name)
    if not sep or selector == "latest":
        return DatasetRef(name)
    if selector.isdigit():
        version = int(selector)
        if version < 1:
            raise InvalidInput(f"dataset versions start at 1, got {ref!r}")
        return DatasetRef(name, version=version)
    return DatasetRef(name, tag=check_tag(selector))
