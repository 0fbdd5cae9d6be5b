"""Operations the apps' data migrations share.

Migrations import this module, so what it does must not change once a migration uses
it: it reads models through the migration's `apps` (their historical state) and imports
no app code.
"""

from collections.abc import Iterable, Mapping

from django.db import migrations
from django.db.models import F, Func, Value
from django.db.models.functions import Replace


def newlines_only(column: str) -> Func:
    r"""SQL for the text of `column` with "\r\n" and "\r" line breaks made "\n", as
    `core.text.newlines_only` does in Python; the same on SQLite and PostgreSQL."""
    crlf = Replace(F(column), Value("\r\n"), Value("\n"))
    return Replace(crlf, Value("\r"), Value("\n"))


def newlines_normalised(
    apps, using: str, app_label: str, columns: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    r"""Rewrite the rows whose `columns` ({model name: [field names]}) hold a "\r".

    Returns how many rows each "model.field" changed. Only those rows are written, one
    UPDATE per column, so a table of clean rows is read but not rewritten. It runs
    below the models' `save`: no `updated_at` moves, no signal or audit entry, as the
    text reads the same.
    """
    changed = {}
    for model_name, fields in columns.items():
        model = apps.get_model(app_label, model_name)
        rows = model._base_manager.using(using)
        for field in fields:
            changed[f"{model_name}.{field}"] = rows.filter(**{f"{field}__contains": "\r"}).update(
                **{field: newlines_only(field)}
            )
    return changed


def normalise_newlines(
    app_label: str, columns: Mapping[str, Iterable[str]]
) -> migrations.RunPython:
    r"""A data migration making "\n" the only line break in the text `columns` hold
    ({model name: [field names]}): rows stored before `core.fields.MultiLineTextField`
    kept "\r\n" as sent, and reading the column (`values()`, an export, a search
    document made from it) gives them back so. Going back leaves them as they are."""
    wanted = {model: list(fields) for model, fields in columns.items()}

    def forwards(apps, schema_editor) -> None:
        newlines_normalised(apps, schema_editor.connection.alias, app_label, wanted)

    return migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)
