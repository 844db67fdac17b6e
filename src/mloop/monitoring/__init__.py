"""Monitoring: how the data and the predictions of a served model move, and who is told.

Drift statistics per column and for a whole table, data quality against a
reference, performance once labels arrive, and the notifiers alerts go
through. It sits below serving (which reads its statistics) and above the
pipelines, and works on tables: what reads a deployment's prediction log
hands it the window.
"""
