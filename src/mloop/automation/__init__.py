"""Automation: the closed loop — monitors that watch served models, policies that retrain them.

Policies live in :mod:`mloop.automation.policies` (the rules) and
:mod:`mloop.automation.policy_runs` (each run, a recorded state machine).
"""
