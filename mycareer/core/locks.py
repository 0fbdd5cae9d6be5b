"""Locks that make a check-then-write safe when two people (or workers) act at once."""

from django.db import connection


def hold_lock(key: int) -> None:
    """Serialise transactions that take the same `key`, until the current one ends.

    SQLite's IMMEDIATE transactions already take the database's write lock at BEGIN, so
    nothing more is needed there; PostgreSQL gets a transaction-level advisory lock.
    Call it first inside `transaction.atomic()`, before reading what the check reads.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
