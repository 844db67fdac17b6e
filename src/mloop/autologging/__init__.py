"""Autologging: params, metrics and models logged by the training call itself.

One call turns it on for every supported library that is installed::

    import mloop
    mloop.autolog()
    LogisticRegression().fit(X, y)   # a run with params, training metrics and the model

Each library also has its own switch with its own options, as MLflow's:
:func:`mloop.autologging.sklearn.autolog`, :func:`mloop.autologging.xgboost.autolog`,
:func:`mloop.autologging.lightgbm.autolog`. Autologging is off until turned
on; ``disable=True`` turns it off and puts every patched method back.
"""

from mloop.autologging.universal import autolog as autolog

__all__ = ["autolog"]
