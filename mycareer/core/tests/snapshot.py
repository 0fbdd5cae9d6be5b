"""A copy of every table's rows, kept beside the test database, put back in a blink.

Loading the demo story through its services takes seconds; copying its rows back
takes a fraction of one. A snapshot is taken once per test database (outside any
transaction) and can be restored inside a test's transaction, which rolls it back.

SQLite: the copy is a second database file, attached to every connection.
PostgreSQL: the copy is a schema of its own in the same database.

A table the database keeps from others by triggers (a count of their rows) would go
through those triggers as the others' rows are deleted and put back, on top of its own
rows copied back: such a table, named in `RECOUNT_AFTER_RESTORE`, is not copied back but
counted again by the function beside its name.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.backends.signals import connection_created
from django.db.models import Model


def freeze(value):
    """A cast (nested dicts of model instances) as model labels and primary keys."""
    if isinstance(value, dict):
        return {key: freeze(item) for key, item in value.items()}
    if isinstance(value, Model):
        return _Row(value._meta.label, value.pk)
    return value


def thaw(frozen):
    """The cast `freeze` kept, read afresh from the database (one query per model)."""
    wanted: dict[str, set] = {}

    def collect(value):
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, _Row):
            wanted.setdefault(value.label, set()).add(value.pk)

    collect(frozen)
    rows = {
        label: apps.get_model(label).objects.in_bulk(list(pks)) for label, pks in wanted.items()
    }

    def build(value):
        if isinstance(value, dict):
            return {key: build(item) for key, item in value.items()}
        if isinstance(value, _Row):
            return rows[value.label][value.pk]
        return value

    return build(frozen)


@dataclass(frozen=True)
class _Row:
    label: str
    pk: object


# Filled by the test set-up (conftest.py): a lower app's tests know no higher app.
RECOUNT_AFTER_RESTORE: dict[str, Callable[[], object]] = {}


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


class Snapshot:
    def __init__(self, name: str):
        self.name = name
        self.tables: list[str] = []
        self.path: Path | None = None

    def take(self) -> "Snapshot":
        """Copy every table as it is now. Call outside a transaction."""
        assert connection.get_autocommit(), "take a snapshot outside any transaction"
        self.tables = _tables()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                path = Path(f"{connection.settings_dict['NAME']}-{self.name}")
                path.unlink(missing_ok=True)
                cursor.execute("VACUUM INTO %s", [str(path)])
                self.path = path
                self._attach_to_every_connection(path)
            else:
                schema = quote(self.name)
                cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                cursor.execute(f"CREATE SCHEMA {schema}")
                for table in self.tables:
                    cursor.execute(f"CREATE TABLE {schema}.{quote(table)} AS TABLE {quote(table)}")
        return self

    def restore(self) -> None:
        """Make every table hold exactly the rows it held when the snapshot was taken."""
        quote = connection.ops.quote_name
        schema = quote(self.name)
        # SQLite's count of deferred foreign-key violations does not always come back
        # to zero when every row is deleted and put back, though no row is left
        # without its parent: outside a transaction the check is made once, at the end.
        unchecked = connection.vendor == "sqlite" and connection.get_autocommit()
        with connection.cursor() as cursor:
            if unchecked:
                cursor.execute("PRAGMA foreign_keys = OFF")
            try:
                with transaction.atomic():
                    if connection.vendor == "sqlite":
                        for table in self.tables:
                            cursor.execute(f"DELETE FROM main.{quote(table)}")
                        # The next ids too, so a test makes the same rows on every run.
                        cursor.execute("DELETE FROM main.sqlite_sequence")
                        cursor.execute(
                            "INSERT INTO main.sqlite_sequence "
                            f"SELECT * FROM {schema}.sqlite_sequence"
                        )
                    else:
                        cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in self.tables)}")
                    for table in self.tables:
                        if table in RECOUNT_AFTER_RESTORE:
                            continue
                        cursor.execute(
                            f"INSERT INTO {quote(table)} SELECT * FROM {schema}.{quote(table)}"
                        )
                    if connection.vendor != "sqlite":
                        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                            cursor.execute(sql)
                    for recount in RECOUNT_AFTER_RESTORE.values():
                        recount()
                    if unchecked:
                        cursor.execute("PRAGMA main.foreign_key_check")
                        assert not cursor.fetchall(), "a restored row lacks its parent"
            finally:
                if unchecked:
                    cursor.execute("PRAGMA foreign_keys = ON")

    def drop(self) -> None:
        """Remove the copy (at the end of the run)."""
        connection_created.disconnect(dispatch_uid=f"snapshot-{self.name}")
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _attach_to_every_connection(self, path: Path) -> None:
        def attach(sender, connection, **kwargs):
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute(f"ATTACH DATABASE %s AS {self.name}", [str(path)])

        connection_created.connect(attach, weak=False, dispatch_uid=f"snapshot-{self.name}")
        attach(None, connection)
