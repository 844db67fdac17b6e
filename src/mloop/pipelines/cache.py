"""The step cache: a successful step run's outputs, by the hash of what determined them.

The key covers the step's source code, its literal params (a param naming a
dataset by a moving reference, such as ``bc@latest``, with the digest of the
version it names), the digests of its inputs and the materializers of its
outputs, so changing any of them runs the step again. An entry also keeps the
datasets and models the step read by reference; it is reused only while each
reference still names the same version or package (see
:mod:`mloop.pipelines.freshness`).

Example:
    >>> len(cache_key("train", "ab" * 32, {"lr": 0.1}, {"df": "cd" * 32}, {"output": "auto"}))
    64
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def cache_key(
    step: str,
    source_digest: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    materializers: Mapping[str, str],
) -> str:
    """SHA-256 over everything that determines a step's outputs."""
    document = {
        "step": step,
        "source": source_digest,
        "params": params,
        "inputs": inputs,
        "materializers": materializers,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
