"""An erased member of the university is remembered by keyed hashes of their identifiers."""

import datetime

import pytest
import time_machine

from mycareer.accounts.erased import erased_identifiers_release, erased_on
from mycareer.accounts.models import ErasedIdentifier
from mycareer.accounts.tests.factories import StudentProfileFactory, UserFactory
from mycareer.audit.erasure import review_erasure
from mycareer.audit.personal_data import subject_from_ids
from mycareer.audit.services import personal_data_erase

pytestmark = pytest.mark.django_db

UID, EMAIL = "zk42@uni.example.ac.uk", "Zara.Khan@example.ac.uk"


def _erase(user, by):
    return personal_data_erase(subject=subject_from_ids([user.pk], []), by=by)


@time_machine.travel(datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_erasing_a_student_keeps_only_keyed_hashes_of_their_identifiers(persona):
    zara = StudentProfileFactory(user__university_id=UID, user__email=EMAIL.lower()).user
    review = review_erasure(subject_from_ids([zara.pk], []))
    assert "University identifier and email, as a keyed hash" in [c.what for c in review.kept]
    assert erased_on(university_id=UID, email="") is None

    report, _ = _erase(zara, persona("admin"))

    stored = list(ErasedIdentifier.objects.values_list("kind", "digest", "erased_on"))
    assert sorted(kind for kind, _, _ in stored) == ["email", "university_id"]
    for _, digest, on in stored:
        assert UID not in digest and "zara" not in digest.lower() and len(digest) == 64
        assert on == datetime.date(2026, 12, 1)
    assert "University identifier and email, as a keyed hash" in [c["what"] for c in report["kept"]]
    # Either identifier is enough, the email in any case.
    assert erased_on(university_id=UID, email="") == datetime.date(2026, 12, 1)
    assert erased_on(university_id="", email=EMAIL.upper()) == datetime.date(2026, 12, 1)
    assert erased_on(university_id="someone@else", email="someone@else") is None


def test_an_employer_is_not_remembered(persona):
    employer = UserFactory(kind="employer", email="hr@example.com")
    _erase(employer, persona("admin"))
    assert not ErasedIdentifier.objects.exists()


def test_the_hash_depends_on_the_key_and_survives_a_rotated_secret_key(persona, settings):
    zara = StudentProfileFactory(user__university_id=UID).user
    settings.MYCAREER = {**settings.MYCAREER, "ERASED_IDENTIFIER_KEY": ""}
    _erase(zara, persona("admin"))
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-000000000000"
    assert erased_on(university_id=UID, email="") is None
    settings.SECRET_KEY_FALLBACKS = [old]
    assert erased_on(university_id=UID, email="") is not None


def test_releasing_lets_the_person_come_back(persona):
    zara = StudentProfileFactory(user__university_id=UID).user
    email = zara.email
    _erase(zara, persona("admin"))
    assert erased_identifiers_release(university_id=UID, email=email) == 2
    assert erased_on(university_id=UID, email=email) is None


def test_the_release_command_needs_an_identifier_and_says_what_it_did(persona, capsys):
    from django.core.management import CommandError, call_command

    zara = StudentProfileFactory(user__university_id=UID).user
    _erase(zara, persona("admin"))
    with pytest.raises(CommandError, match="Give --university-id"):
        call_command("erased_release")
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("erased_release", university_id="nobody@uni")
    call_command("erased_release", university_id=UID)
    assert "Released 1 identifier(s)" in capsys.readouterr().out
    assert erased_on(university_id=UID, email="") is None
