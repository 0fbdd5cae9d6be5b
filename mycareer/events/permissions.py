"""Who may see, organise, publish and cancel events, and answer opening requests.

Operators (Action.EDIT) organise events of their own units; a member of a faculty
organises for its schools and departments too. Administrators may do everything.
Seeing an event follows `selectors.can_see_event`: what `visible_events` lists, and
the events a student has had a place at, whatever their audience says now.
"""

import rules

from mycareer.accounts.permissions import (
    Action,
    add_rule,
    can_administer,
    can_edit_records,
    can_view_staff_pages,
)
from mycareer.events import selectors


def _covers_unit(user, unit_id: int | None) -> bool:
    members = selectors.member_unit_ids(user)
    if not members or unit_id is None:
        return False
    # The tree is read once a request, not once an event: a list asks for many.
    return bool(members & set(selectors.unit_tree_for(user).chain(unit_id)))


@rules.predicate
def has_a_unit(user) -> bool:
    return getattr(user, "is_authenticated", False) and bool(selectors.member_unit_ids(user))


@rules.predicate
def organises_for_event_unit(user, event) -> bool:
    """The person belongs to the event's unit or a unit above it."""
    return event is not None and _covers_unit(user, event.unit_id)


@rules.predicate
def answers_for_request_unit(user, opening_request) -> bool:
    """The person belongs to the unit asked, or a unit above it."""
    return opening_request is not None and _covers_unit(user, opening_request.unit_id)


@rules.predicate
def can_see_event(user, event) -> bool:
    return event is not None and selectors.can_see_event(user, event)


def _only_operators_of(thing) -> str:
    return f"Only operators of {thing.unit} (or a unit above it) may do this."


can_organise_event = can_administer | (can_edit_records & organises_for_event_unit)
E = Action.EDIT

add_rule("events.view_event", can_see_event)
add_rule("events.add_event", can_administer | (can_edit_records & has_a_unit), needs=E)
for _name in ("change_event", "publish_event", "cancel_event", "request_opening"):
    add_rule(f"events.{_name}", can_organise_event, needs=E, otherwise=_only_operators_of)
add_rule(
    "events.decide_opening",
    can_administer | (can_edit_records & answers_for_request_unit),
    needs=E,
    otherwise=_only_operators_of,
)
add_rule(
    "events.view_opening_requests",
    can_view_staff_pages,
    otherwise="This page is for university staff.",
)
add_rule(
    "events.view_public_feed_list",
    can_view_staff_pages,
    otherwise="This page is for university staff who look after the university's website.",
)
