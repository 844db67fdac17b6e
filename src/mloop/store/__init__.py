"""The metadata database: engines and sessions, the SQL schema, Alembic migrations.

This layer knows tables, not domain rules; ``tracking`` and later domains
build their stores on it.
"""
