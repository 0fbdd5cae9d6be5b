"""Database functions the ORM lacks on Django 5.2, written for both engines."""

from django.db.models import Aggregate, Expression, OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast

# Between joined values: a control character no name or number holds.
SEPARATOR = "\x1f"
# Between the two parts of one joined value that is a pair: another such character.
PAIR_SEPARATOR = "\x1e"


class JoinedText(Aggregate):
    """A group's values as one text, joined by SEPARATOR, in no particular order.

    GROUP_CONCAT on SQLite, string_agg on PostgreSQL.
    """

    function = "GROUP_CONCAT"
    output_field = TextField()

    def __init__(self, expression, **extra):
        super().__init__(Cast(expression, TextField()), Value(SEPARATOR), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def joined(rows: QuerySet, *, link: str, value: str | Expression) -> Subquery:
    """The `value`s of the `rows` whose `link` is the outer row, as one text (or NULL);
    `value` names a field or is an expression of the rows (a pair: see `split_pairs`).

    Used to bring a short list (an organisation's tags, the people a note was with) into
    the query that reads the outer rows, instead of one more query to prefetch it.
    """
    return Subquery(
        rows.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(joined=JoinedText(value))
        .values("joined")
    )


def split(text: str | None) -> list[str]:
    """The values `joined` brought back."""
    return text.split(SEPARATOR) if text else []


def split_pairs(text: str | None) -> list[tuple[str, str]]:
    """The pairs `joined` brought back, each made as `first`, PAIR_SEPARATOR, `second`."""
    return [
        (first, second) for first, _, second in (v.partition(PAIR_SEPARATOR) for v in split(text))
    ]
