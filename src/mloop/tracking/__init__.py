"""Experiment tracking: runs, params, metrics, tags and artifacts.

The fluent API (``mloop.start_run``, ``mloop.log_metric`` …) and the
:class:`~mloop.tracking.client.Client` both talk to the store protocols in
:mod:`mloop.store.protocols.tracking`, never to SQL directly.
"""
