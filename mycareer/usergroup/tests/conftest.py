import pytest

from mycareer.usergroup import services


@pytest.fixture
def representatives(persona, cast):
    """The Super User Group: Helen for Engineering, Grace for Business, Rachel for Arts."""
    units = cast["units"]
    appointed = {
        code: persona(name)
        for code, name in (("eps", "manager"), ("business", "mailer"), ("ahc", "expiring"))
    }
    for code, person in appointed.items():
        services.representative_appoint(unit=units[code], user=person, by=cast["admin"])
    return appointed
