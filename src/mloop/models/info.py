"""What :func:`mloop.models.log_model` returns: where a logged model is and what it is.

Example:
    >>> info = ModelInfo("runs:/" + "0" * 32 + "/model", "0" * 32, "model", "ab" * 32, "sklearn",
    ...                  loader={"file": "model.skops"})
    >>> (info.artifact_path, info.registered_model_version, info.flavors)
    ('model', None, {'sklearn': {'file': 'model.skops'}})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mloop.entities import ModelVersion
from mloop.models.signature import Signature


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """A model logged to a run: where it is, what it is, and its registered version if any.

    It can be passed to ``mloop.log_input`` (kind ``model``) and returned from a
    pipeline step (stored by reference).
    """

    model_uri: str
    run_id: str
    artifact_path: str
    digest: str
    flavor: str
    signature: Signature | None = None
    registered_version: ModelVersion | None = None
    loader: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def registered_model_version(self) -> int | None:
        """The version number it was registered as by ``registered_model_name``, or None."""
        return self.registered_version.version if self.registered_version is not None else None

    @property
    def flavors(self) -> dict[str, dict[str, Any]]:
        """``{flavor: loader settings}``: how the package loads (one flavor per package)."""
        return {self.flavor: dict(self.loader)}

    @property
    def kind(self) -> str:
        """What this is as a run input or output."""
        return "model"

    @property
    def name(self) -> str:
        """The artifact path, as the name of a run output."""
        return self.artifact_path

    @property
    def source(self) -> str:
        """Where it comes from, for run input records."""
        return self.model_uri
