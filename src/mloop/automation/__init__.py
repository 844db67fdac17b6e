"""Automation: monitors that watch a deployment's traffic, and the agent that runs them.

This layer sits above serving (it reads a deployment's prediction log) and
below the command line. :mod:`mloop.automation.monitors` creates and runs
monitors; :mod:`mloop.automation.agent` runs them on their schedules.

Example:
    >>> from mloop.automation import monitors
    >>> monitors.next_run("1h", monitors.datetime(2026, 1, 1, tzinfo=monitors.UTC)).hour
    1
"""
