"""Alembic environment: runs on the connection `aipaint.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

import aipaint.models  # noqa: F401  (registers every table on the metadata)
from aipaint.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through aipaint.db.migrate (aipaint serve does)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
