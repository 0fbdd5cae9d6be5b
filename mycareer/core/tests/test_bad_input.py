"""Bad input: line breaks in one-line text and numbers too big for the database."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mycareer.core.forms import MAX_ID, LocalDateTimeField, bounded_ids, bounded_int
from mycareer.core.text import single_line
from mycareer.core.validators import validate_phone
from mycareer.events.tests.factories import EventFactory
from mycareer.organisations import imports, services
from mycareer.organisations.models import Contact
from mycareer.organisations.tests.factories import OrganisationFactory

HUGE = "99999999999999999999999"


def test_single_line_turns_control_characters_into_one_space():
    assert single_line("Ada\r\nBcc: x@example.com") == "Ada Bcc: x@example.com"
    assert single_line("  Ada\x00\x1b[31m \u2028Lovelace\t ") == "Ada [31m Lovelace"
    assert single_line(None) == ""
    assert single_line("Zoë Ó Briain-Smith") == "Zoë Ó Briain-Smith"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("2027-03-28T01:30", "01:30 on 28 March 2027 does not exist in UK time: the clocks go"),
        ("2027-10-31T01:30", "01:30 on 31 October 2027 happens twice in UK time: the clocks"),
    ],
)
def test_a_time_the_clocks_skip_or_pass_twice_is_refused_with_what_happens(typed, says):
    """Django's own words were "2027-03-28 01:30:00 couldn't be interpreted in time zone
    Europe/London; it may be ambiguous or it may not exist"."""
    with pytest.raises(ValidationError) as refused:
        LocalDateTimeField().clean(typed)
    assert refused.value.messages[0].startswith(says)
    assert "Europe/London" not in refused.value.messages[0]


def test_the_hours_either_side_of_a_clock_change_are_read_as_typed():
    field = LocalDateTimeField()
    assert field.clean("2027-03-28T02:30").isoformat() == "2027-03-28T02:30:00+01:00"
    assert field.clean("2027-10-31T02:30").isoformat() == "2027-10-31T02:30:00+00:00"
    with pytest.raises(ValidationError, match="Enter a valid date/time"):
        field.clean("soon")


@pytest.mark.parametrize(
    "phone",
    ["0113 496 0000", "+44 113 496 0000", "(0113) 496-0000", "07700 900123 ext 12", "1234567"],
)
def test_phone_numbers_as_people_write_them_are_accepted(phone):
    validate_phone(phone)


@pytest.mark.parametrize(
    "phone", ["12345678901234567890", "123", "call me", "0113 496 0000; DROP", "++44 113 4960000"]
)
def test_a_phone_number_that_cannot_be_one_is_refused(phone):
    with pytest.raises(ValidationError, match="7 to 15 digits"):
        validate_phone(phone)


@pytest.mark.django_db
def test_a_contact_s_phone_is_checked_in_the_service_too(persona):
    organisation = OrganisationFactory()
    with pytest.raises(ValidationError) as refused:
        services.contact_create(
            organisation=organisation, by=persona("operator"), full_name="P", phone="1" * 20
        )
    assert "phone" in refused.value.message_dict


def test_bounded_int_gives_the_default_for_anything_out_of_range():
    assert bounded_int("12", default=1) == 12
    assert bounded_int("9223372036854775807", default=1, high=1000) == 1
    assert bounded_int(HUGE, default=None) is None
    assert bounded_int("-10000000000000000000", default=None, low=-MAX_ID, high=MAX_ID) is None
    assert bounded_int("1e9", default=3) == 3
    assert bounded_int(None, default=3) == 3
    assert bounded_ids(["4", HUGE, "x", "-1", "9223372036854775807"]) == [4, 9223372036854775807]


@pytest.mark.django_db
def test_a_line_break_in_a_contact_name_typed_in_a_form_is_removed(client, persona):
    client.force_login(persona("operator"))
    org = OrganisationFactory(name="Brightwave Digital")
    response = client.post(
        reverse("organisations:contact_create", args=[org.pk]),
        {"full_name": "Eve\r\nBcc: everyone@example.com", "email": "eve@brightwave.example"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(email="eve@brightwave.example")
    assert contact.full_name == "Eve Bcc: everyone@example.com"


@pytest.mark.django_db
def test_one_line_model_fields_are_cleaned_when_set_in_code(persona):
    org = services.organisation_create(
        by=persona("operator"), name="Line\nBreak\x07 Ltd", confirm_duplicates=True
    )
    org.refresh_from_db()
    assert org.name == "Line Break Ltd"
    event = EventFactory()
    event.title = "Careers\r\nfair"
    event.save()
    event.refresh_from_db()
    assert event.title == "Careers fair"


@pytest.mark.django_db
def test_an_import_cleans_names_and_titles_of_control_characters(persona):
    data = (
        b"Organisation name,Contact name,Contact job title,Contact email\n"
        b'"Tab\tand\x0bbell\x07 Ltd","Ada\rLovelace","Head\x1bof things",ada@tab.example\n'
    )
    plan = imports.plan_import(data=data, filename="people.csv")
    assert plan.is_valid, plan.problems
    group = plan.groups[0]
    assert group.name == "Tab and bell Ltd"
    assert group.contacts[0].full_name == "Ada Lovelace"
    assert group.contacts[0].job_title == "Head of things"


@pytest.mark.django_db
def test_a_page_number_too_big_for_the_database_shows_the_first_page(client, persona):
    client.force_login(persona("operator"))
    org = OrganisationFactory(name="Northbridge Engineering Ltd")
    url = reverse("organisations:detail", args=[org.pk])
    response = client.get(url, {"page": "9223372036854775807"})
    assert response.status_code == 200
    assert response.context["page"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["target_units", "target_programmes"])
def test_ids_too_big_in_a_vacancy_form_are_a_form_error(client, persona, field):
    client.force_login(persona("operator"))
    response = client.post(reverse("vacancies:post"), {"title": "Typed title", field: HUGE})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Typed title" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["audience_units", "topics", "audience_programmes"])
def test_ids_too_big_in_an_event_form_are_a_form_error(client, persona, field):
    client.force_login(persona("operator"))
    response = client.post(reverse("events:create"), {"title": "Typed title", field: HUGE})
    assert response.status_code == 200
    assert field in response.context["form"].errors


@pytest.mark.django_db
def test_a_capacity_too_big_for_the_database_is_a_form_error(client, persona):
    from mycareer.bookings.tests.factories import make_event

    client.force_login(persona("operator"))
    event = make_event(organiser=persona("operator"), capacity=30)
    response = client.post(reverse("bookings:settings", args=[event.pk]), {"capacity": HUGE})
    assert response.status_code == 200
    assert "capacity" in response.context["form"].errors


@pytest.mark.django_db
def test_a_number_too_big_in_a_model_form_names_the_fields_own_limit(cast):
    """A model form's whole numbers said "Ensure this value is less than or equal to
    9223372036854775807.", the database's limit; the column's own, in plain figures."""
    from mycareer.bookings.forms import PolicyForm
    from mycareer.bookings.models import NoShowPolicy

    form = PolicyForm(
        {"enabled": "on", "no_shows": HUGE, "window_weeks": "0", "ban_weeks": "4"},
        instance=NoShowPolicy(pk=1),
    )
    assert not form.is_valid()
    assert form.errors["no_shows"] == ["Enter a number from 1 to 20."]
    assert form.errors["window_weeks"] == ["Enter a number from 1 to 52."]


def test_a_bounded_number_without_a_lower_limit_says_only_its_upper_one():
    from mycareer.core.forms import MAX_INTEGER, BoundedIntegerField

    field = BoundedIntegerField(label="Shift")
    with pytest.raises(ValidationError) as refused:
        field.clean(HUGE)
    assert refused.value.messages == [f"Enter a number up to {MAX_INTEGER:,}."]


# Images with more pixels than Pillow opens ------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A PNG's header claiming `width` × `height`, with no pixels: a few bytes that would
    need gigabytes once drawn."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def small_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (80, 80), "#8a4b00").save(buffer, "PNG")
    return buffer.getvalue()


def test_an_image_over_pillows_pixel_limit_is_said_to_be_too_large_in_pixels(monkeypatch):
    """It was "not an image MyCareer can read", or a server error past the validator."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from mycareer.accounts.models import User
    from mycareer.core.validators import MAX_IMAGE_PIXELS, check_image, validate_photo
    from mycareer.organisations.validators import validate_logo

    assert Image.MAX_IMAGE_PIXELS  # the default: refused over twice it
    bomb = png_claiming(20_000, 20_000)
    expected = f"is too large in pixels: it must be at most {MAX_IMAGE_PIXELS} pixels on each side."
    for validate, what in ((validate_logo, "logo"), (validate_photo, "photo")):
        with pytest.raises(ValidationError) as refused:
            validate(SimpleUploadedFile("big.png", bomb, content_type="image/png"))
        assert refused.value.messages == [f"The {what} {expected}"]
    # Over the limit but under twice it, Pillow only warns: refused all the same.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)  # 80 × 80 = 6,400
    warned = pytest.warns(Image.DecompressionBombWarning)
    with warned, pytest.raises(ValidationError, match="too large in pixels"):
        check_image(SimpleUploadedFile("me.png", small_png()), what="photo")
    # The form field Django gives an image said "not a valid image" before the validator.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 6,400 is over twice it
    from mycareer.accounts.forms import StaffProfileForm

    form = StaffProfileForm(
        data={"notification_mode": "immediate"},
        files={"photo": SimpleUploadedFile("me.png", small_png(), content_type="image/png")},
        instance=User(),
    )
    assert form.errors["photo"] == [f"The photo {expected}"]
