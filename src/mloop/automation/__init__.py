"""Automation: the closed loop — monitors that watch served models, policies that retrain them.

This layer sits above serving (it reads a deployment's prediction log and
changes deployments) and below the command line.
:mod:`mloop.automation.monitors` creates and runs monitors;
:mod:`mloop.automation.policies` holds the rules of the continuous-training
loop and :mod:`mloop.automation.policy_runs` each run, a recorded state
machine; :mod:`mloop.automation.agent` runs monitors and policies on their
schedules.

Example:
    >>> from mloop.automation import monitors
    >>> monitors.next_run("1h", monitors.datetime(2026, 1, 1, tzinfo=monitors.UTC)).hour
    1
"""
