"""The demo's retraining pipeline: what a policy runs when the world changes.

``retrain(data, features)`` trains a logistic regression on a dataset
version's rows and registers it as a new version of ``credit``; the policy
then gates it, canaries it and, if the canary holds up, promotes it. The
``features`` are the columns the model reads: the demo's second policy
passes one that is only known after a loan ends (``repaid``), the classic
leak that makes a model shine offline and fail on live requests.
"""

from __future__ import annotations

import pandas as pd
from sklearn.linear_model import LogisticRegression

import mloop


@mloop.step(cache=False)
def fit(data: str, features: str) -> str:
    """A logistic regression on ``features`` of the version ``data``, registered as credit."""
    columns = [name.strip() for name in features.split(",")]
    frame: pd.DataFrame = mloop.data.get(data).to_pandas()
    model = LogisticRegression(max_iter=1000).fit(frame[columns], frame["label"])
    mloop.log_metric("train_accuracy", float(model.score(frame[columns], frame["label"])))
    info = mloop.models.log_model(
        model, "model", input_example=frame[columns][:3], registered_model_name="credit"
    )
    assert info.registered_version is not None
    return info.registered_version.ref


@mloop.pipeline
def retrain(data: str = "credit@latest", features: str = "income,debt") -> None:
    """Train on a dataset version and register the model."""
    fit(data, features)
