"""Bringing other tools' stores into mloop: ``mloop import mlflow SOURCE``.

Each tool has a sub-package that reads its formats directly (no dependency on
the tool itself) into one neutral stream of records, and a writer that puts
them into mloop's stores through the domain APIs. See
:func:`mloop.importing.mlflow.import_mlflow`.

Example:
    >>> from mloop.importing.mlflow import import_mlflow
    >>> callable(import_mlflow)
    True
"""
