"""Custom models: a :class:`PythonModel` subclass with ``load_context`` and ``predict``.

For logic no flavor covers (an ensemble, pre- and post-processing around a
model, a rules engine). The class is saved by reference, never pickled: its
module must be importable when the model loads, or shipped inside the
package with ``code_paths``. Files it needs go in ``artifacts`` and come back
as local paths in ``context.artifacts``; settings go in ``model_config``.

Example:
    >>> class Threshold(PythonModel):
    ...     def load_context(self, context):
    ...         self.cut = context.model_config["cut"]
    ...     def predict(self, model_input):
    ...         return [x > self.cut for x in model_input["score"]]
    >>> model = Threshold()
    >>> model.load_context(ModelContext({}, {"cut": 0.5}))
    >>> model.predict({"score": [0.2, 0.9]})
    [False, True]
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class ModelContext:
    """What ``load_context`` gets: artifact names to local paths, and the model's settings."""

    artifacts: Mapping[str, str]
    model_config: Mapping[str, Any]


class PythonModel(abc.ABC):
    """Base class of custom models; subclass it and implement ``predict``.

    ``load_context`` runs once when the model loads (read artifacts, build
    state); ``predict`` gets input already checked against the signature. A
    subclass may add ``predict_proba``. MLflow's form of ``predict``,
    ``predict(self, context, model_input, params=None)``, works too: a model
    written for MLflow moves over unchanged.
    """

    def load_context(self, context: ModelContext) -> None:  # noqa: B027 (optional hook)
        """Prepare the model from its artifacts and settings (optional)."""

    @abc.abstractmethod
    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Predictions for the input.

        Written as ``predict(self, model_input)``, or MLflow's way,
        ``predict(self, context, model_input, params=None)``.
        """
