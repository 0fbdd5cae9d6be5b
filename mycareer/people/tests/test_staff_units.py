"""The feed owns the units it gave: units added by hand (or by the university sign-in) stay."""

from mycareer.accounts.models import StaffMembership, Unit, User
from mycareer.people.tests.test_feed import run, staff


def _units(user) -> dict[str, str]:
    memberships = StaffMembership.objects.filter(user=user).select_related("unit")
    return {m.unit.code: m.source for m in memberships}


def test_a_unit_added_by_hand_is_kept_by_the_next_import(cast):
    run([staff("lecturer@demo.ac.uk", units="mech")])
    lecturer = User.objects.get(email="lecturer@demo.ac.uk")
    assert _units(lecturer) == {"mech": "feed"}
    # An administrator adds the careers team's unit in the Django admin.
    StaffMembership.objects.create(user=lecturer, unit=Unit.objects.get(code="eps"))

    counts = run([staff("lecturer@demo.ac.uk", units="mech")])

    assert counts["unchanged"] == 1
    assert _units(lecturer) == {"mech": "feed", "eps": "hand"}


def test_the_feed_removes_only_the_units_it_gave(cast):
    run([staff("lecturer@demo.ac.uk", units="mech; eps")])
    lecturer = User.objects.get(email="lecturer@demo.ac.uk")
    StaffMembership.objects.create(user=lecturer, unit=Unit.objects.get(code="computing"))

    counts = run([staff("lecturer@demo.ac.uk", units="mech")])

    assert counts["updated"] == 1
    assert _units(lecturer) == {"mech": "feed", "computing": "hand"}


def test_a_unit_added_by_hand_and_then_listed_by_the_feed_stays_the_administrators(cast):
    hand = User.objects.create(email="lecturer@demo.ac.uk", full_name="Jo Smith", kind="staff")
    StaffMembership.objects.create(user=hand, unit=Unit.objects.get(code="mech"))
    run([staff("lecturer@demo.ac.uk", units="mech; eps")])
    run([staff("lecturer@demo.ac.uk", units="eps")])
    assert _units(hand) == {"mech": "hand", "eps": "feed"}
