"""Cursor pagination that stays stable under inserts, and ETags.

A page is the first `limit` rows after the cursor in a fixed order that ends with the
primary key, so a row inserted while a script pages through never shifts the rows it
has yet to read (offsets would). The cursor is opaque to clients: the last row's sort
values, encoded.
"""

import base64
import binascii
import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.crypto import salted_hmac

from mycareer.api.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _encode(values: list) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _value(value: Any, kind: type) -> Any:
    if kind is not datetime.datetime:
        return kind(value)
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError  # Every cursor MyCareer gives has the offset.
    # As the database filter will, here where an error is the cursor's: a time near
    # year 1 or 9999 with an offset has no UTC equivalent (OverflowError).
    return moment.astimezone(datetime.UTC)


def _decode(cursor: str, kinds: Sequence[type]) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return [_value(v, kind) for v, kind in zip(values, kinds, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ApiError(
            400,
            "invalid_cursor",
            "This cursor is not one MyCareer gave: start again without it.",
            fields={"cursor": ["Not a cursor from a previous page."]},
        ) from None


def page(
    queryset: QuerySet,
    *,
    cursor: str | None,
    limit: int,
    order: Sequence[tuple[str, type]] = (("pk", int),),
    item: Callable[[Any], Any] = lambda row: row,
) -> dict:
    """One page of `queryset` in `order` (fields ascending, the last one unique)."""
    names = [name for name, _ in order]
    queryset = queryset.order_by(*names)
    if cursor:
        values = _decode(cursor, [kind for _, kind in order])
        after = Q()
        for i, name in enumerate(names):
            step = Q(**{f"{name}__gt": values[i]})
            for earlier, value in zip(names[:i], values[:i], strict=True):
                step &= Q(**{earlier: value})
            after |= step
        queryset = queryset.filter(after)
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode([getattr(last, name) for name in names])
    return {"items": [item(row) for row in rows], "next_cursor": next_cursor}


def etag_for(data: Any) -> str:
    """A strong ETag for a representation (a schema object or plain JSON data).

    Keyed with the site's secret: a plain hash would let whoever holds an ETag (a token
    without `read` is given one by every write and every 412) test guesses of the
    record's fields, a phone number say, offline.
    """
    if hasattr(data, "model_dump_json"):
        text = data.model_dump_json()
    else:
        text = json.dumps(data, sort_keys=True, default=str)
    return '"' + salted_hmac("mycareer.api.etag", text, algorithm="sha256").hexdigest()[:32] + '"'


def check_if_match(request, current: str) -> None:
    """Refuse an update made from a stale copy (412); an update without If-Match is refused
    too (428), so two editors cannot overwrite each other by accident.

    The ETag of the current version goes with a 412 whatever the token's scopes: it is an
    opaque version, no part of the record, and a token without `read` has no other way
    to learn it. A 428 does not carry it: that update was based on no version at all.
    """
    sent = request.headers.get("If-Match")
    if not sent:
        raise ApiError(
            428,
            "precondition_required",
            "Send If-Match with the ETag of the version you changed: a GET of it, or the "
            "write that made or last changed it, answered with it.",
        )
    wanted = {tag.strip() for tag in sent.split(",")}
    if "*" not in wanted and current not in wanted:
        raise ApiError(
            412,
            "stale",
            "Someone changed this since the version you sent in If-Match: GET it again and "
            "reapply your change. This answer's ETag is the version now.",
            headers={"ETag": current},
        )
