"""Wiping what the database files still hold of removed data, after an erasure or a
retention run.

Deleting or overwriting a row does not take its old bytes out of the files at once:

- SQLite: every connection has `secure_delete` on (settings), so the space a row leaves
  is overwritten with zeros as it is freed. Two copies remain: the text index keeps
  removed entries in its older segments until they are merged (an erased contact's name,
  in their organisation's search document), and the write-ahead log keeps the earlier
  versions of changed pages until a checkpoint. `wipe_removed_data` merges the index and
  checkpoints the log, truncating it.
- PostgreSQL: the old versions of changed rows stay in the tables and their indexes
  until a VACUUM removes them; one runs now, not when autovacuum gets round to it. The
  space is then reused rather than zeroed: keep the database's disk encrypted.

Backups taken before keep their copy until they are deleted (`backups_taken_before`).
"""

import logging
import time

from django.db import connections

from mycareer.core.logs import log_event
from mycareer.organisations.models import OrganisationText

logger = logging.getLogger(__name__)


def wipe_removed_data(using: str = "default") -> dict:
    """Remove the database's leftover copies of removed data; returns what was done."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("Wiping runs outside a transaction (VACUUM and checkpoints must).")
    started = time.perf_counter()
    done: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            index = connection.ops.quote_name(OrganisationText._meta.db_table)
            # The table's name, from the model: no input reaches it.
            cursor.execute(f"INSERT INTO {index}({index}) VALUES ('optimize')")  # noqa: S608
            done.append("text index merged")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
            done.append("log checkpointed" if not busy else "log busy: checkpoint next time")
        elif connection.vendor == "postgresql":
            cursor.execute("VACUUM")
            done.append("old row versions vacuumed")
    duration_ms = round((time.perf_counter() - started) * 1000)
    log_event(
        logger, "database.wiped", vendor=connection.vendor, done=done, duration_ms=duration_ms
    )
    return {"done": done, "duration_ms": duration_ms}
