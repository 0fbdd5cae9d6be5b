import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from mycareer.audit.models import AuditEntry
from mycareer.core.tests.concurrency import row_locks
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.organisations import services
from mycareer.organisations.forms import OrganisationForm, join_tags, split_tags
from mycareer.organisations.matching import domain_from_url, name_key
from mycareer.organisations.models import Contact, EmailOptOut, Note, Organisation


@pytest.fixture
def operator(persona):
    return persona("operator")


def make(name, operator, **fields):
    return services.organisation_create(by=operator, name=name, confirm_duplicates=True, **fields)


def test_name_keys_ignore_legal_words_case_punctuation_and_ampersands():
    assert name_key("ACME Limited") == name_key("Acme Ltd.") == "acme"
    assert name_key("Smith & Jones PLC") == name_key("smith and jones") == "smith and jones"


def test_domains_are_normalised():
    assert domain_from_url("https://www.Acme.co.uk/jobs?x=1") == "acme.co.uk"
    assert domain_from_url("acme.co.uk") == "acme.co.uk"
    assert domain_from_url("") == ""


@pytest.mark.django_db
def test_duplicate_detection_finds_similar_names_with_the_reason(operator):
    make("Acme Ltd", operator, website="https://acme.co.uk")
    candidates = services.organisation_duplicates(name="ACME Limited")
    assert [c.name for c in candidates] == ["Acme Ltd"]
    assert candidates[0].reasons == ["Same name"]


@pytest.mark.django_db
def test_duplicate_detection_ignores_a_trailing_group_or_holdings_but_not_a_leading_one(operator):
    """ "The Pennine Analytics Group" was not found for "Pennine Analytics" (no website)."""
    make("Pennine Analytics", operator)
    make("Lotus", operator)
    make("Harbour Holdings", operator)
    for name in [
        "The Pennine Analytics Group",
        "Pennine Analytics Holdings Ltd",
        "Pennine Analytics Group (UK) Limited",
    ]:
        found = services.organisation_duplicates(name=name)
        assert [c.name for c in found] == ["Pennine Analytics"], name
    # The other way round: the record ends in Group, the new name does not.
    make("Northbridge Engineering Group", operator)
    found = services.organisation_duplicates(name="Northbridge Engineering")
    assert [c.name for c in found] == ["Northbridge Engineering Group"]
    # Leading, the word is part of the name; alone, it is the whole name; and another
    # word before the Group still tells two employers apart.
    for name in ["Group Lotus", "Holdings", "Pennine Water Group", "Harbour Group Holdings"]:
        found = [c.name for c in services.organisation_duplicates(name=name)]
        assert "Lotus" not in found and "Pennine Analytics" not in found, name
    assert [c.name for c in services.organisation_duplicates(name="Harbour Group")] == [
        "Harbour Holdings"
    ]


@pytest.mark.django_db
def test_duplicate_detection_finds_the_same_domain(operator):
    make("Acme Ltd", operator, website="https://www.acme.co.uk")
    candidates = services.organisation_duplicates(
        name="Acme Robotics Division", website="http://acme.co.uk/robots"
    )
    assert [c.name for c in candidates] == ["Acme Ltd"]
    assert "Same web domain: acme.co.uk" in candidates[0].reasons


@pytest.mark.django_db
def test_duplicate_detection_finds_contacts_with_the_same_email_domain(operator):
    acme = make("Acme Ltd", operator)
    services.contact_create(
        organisation=acme, by=operator, full_name="Jo Bloggs", email="jo@acmegroup.com"
    )
    candidates = services.organisation_duplicates(
        name="Completely Different", emails=["sam@acmegroup.com"]
    )
    assert [c.name for c in candidates] == ["Acme Ltd"]
    assert "Contacts with email at acmegroup.com" in candidates[0].reasons
    # A free-mail address says nothing about the organisation.
    services.contact_create(organisation=acme, by=operator, full_name="Al", email="al@gmail.com")
    assert services.organisation_duplicates(name="Other Org", emails=["x@gmail.com"]) == []


@pytest.mark.django_db
def test_unrelated_names_are_not_flagged(operator):
    make("Acme Ltd", operator, website="https://acme.co.uk")
    for name in ["Apex Engineering", "Acme Robotics and Automation Systems", "Northern Rail"]:
        assert services.organisation_duplicates(name=name) == [], name


@pytest.mark.django_db
def test_creating_a_likely_duplicate_needs_confirmation(operator):
    make("Acme Ltd", operator)
    with pytest.raises(services.LikelyDuplicate) as raised:
        services.organisation_create(by=operator, name="ACME Limited")
    assert raised.value.candidates[0].name == "Acme Ltd"
    assert Organisation.objects.filter(name="ACME Limited").count() == 0
    services.organisation_create(by=operator, name="ACME Limited", confirm_duplicates=True)
    assert Organisation.objects.filter(name="ACME Limited").count() == 1


@pytest.mark.django_db
def test_locations_are_kept_as_students_read_them(operator):
    """Typed "Leeds, , Leeds ,  London,", it was saved so, and shown so in the directory."""
    org = make("Wharfe Mills", operator, locations="Leeds, , Leeds ,  London,")
    org.refresh_from_db()
    assert org.locations == "Leeds, London"
    services.organisation_update(organisation=org, by=operator, locations="york,York , Hull")
    org.refresh_from_db()
    assert (org.locations, org.location_list) == ("york, Hull", ["york", "Hull"])


@pytest.mark.django_db
def test_locations_typed_another_way_are_no_change(operator):
    """An employer saved "Leeds,, ,London ," over "Leeds, London": told "saved", with an
    audit line of a change, while the profile kept what it had."""
    org = make("Wharfe Mills", operator, locations="Leeds, London")
    changed = services.organisation_update(
        organisation=org, by=operator, locations="Leeds,, ,London ,  "
    )
    assert changed == {}
    assert not AuditEntry.objects.filter(action="organisations.organisation.changed").exists()
    changed = services.organisation_update(organisation=org, by=operator, locations="Leeds,York")
    assert changed == {"locations": ["Leeds, London", "Leeds, York"]}


@pytest.mark.django_db
def test_renaming_to_a_likely_duplicate_needs_confirmation(operator):
    make("Acme Ltd", operator, website="https://acme.co.uk")
    other = make("Apex Widgets", operator)
    with pytest.raises(services.LikelyDuplicate) as raised:
        services.organisation_update(organisation=other, by=operator, name="ACME Limited")
    assert raised.value.candidates[0].name == "Acme Ltd"
    with pytest.raises(services.LikelyDuplicate):
        services.organisation_update(
            organisation=other, by=operator, website="https://www.acme.co.uk/careers"
        )
    other.refresh_from_db()
    assert (other.name, other.website) == ("Apex Widgets", "")
    # Other changes ask nothing; a confirmed rename is made.
    services.organisation_update(organisation=other, by=operator, description="Widgets")
    services.organisation_update(
        organisation=other, by=operator, name="ACME Limited", confirm_duplicates=True
    )
    other.refresh_from_db()
    assert other.name == "ACME Limited"


@pytest.mark.django_db
def test_create_edit_archive_and_delete_are_audited(operator, persona):
    org = make("Leeds Widgets", operator, website="https://www.leedswidgets.co.uk")
    assert org.domain == "leedswidgets.co.uk"
    changed = services.organisation_update(organisation=org, by=operator, description="Widgets")
    assert changed == {"description": ["", "Widgets"]}
    services.organisation_archive(organisation=org, by=persona("manager"))
    org.refresh_from_db()
    assert org.status == Organisation.Status.ARCHIVED
    services.organisation_delete(organisation=org, by=persona("manager"))
    actions = list(
        AuditEntry.objects.filter(object_repr="Leeds Widgets").values_list("action", flat=True)
    )
    assert set(actions) >= {
        "organisations.organisation.created",
        "organisations.organisation.changed",
        "organisations.organisation.archived",
        "organisations.organisation.deleted",
    }


@pytest.mark.django_db
def test_a_tag_with_a_comma_is_quoted_in_the_tag_field_and_read_back_whole():
    """The edit form joined tags with ", " and split on ",": "Engineering, Civil" came back
    as two tags from a form saved unchanged."""
    tags = ["Engineering, Civil", 'The "Big Four"', "Placements", '"Quoted"']
    shown = join_tags(tags)
    assert shown == '"Engineering, Civil", "The ""Big Four""", Placements, """Quoted"""'
    assert split_tags(shown) == tags
    # Typed as before: commas separate tags; spaces and empty parts do not count.
    assert split_tags(" Graduate  recruiter,Placements, ,") == ["Graduate recruiter", "Placements"]
    assert split_tags('"Engineering, Civil" , NHS') == ["Engineering, Civil", "NHS"]


# A tag as MyCareer keeps it: spaces collapsed, none at either end (services.normalise_tags).
stored_tag = st.text(min_size=1, max_size=20).map(lambda t: " ".join(t.split())).filter(bool)


@given(st.lists(stored_tag, max_size=5))
def test_any_tags_read_back_exactly_from_the_tag_field(tags):
    assert split_tags(join_tags(tags)) == tags


def test_the_edit_form_saved_unchanged_gives_back_the_same_tags(operator):
    org = make("Ouse Civil Partners", operator, tags=["Engineering, Civil", "Placements"])
    shown = OrganisationForm(instance=org)
    data = {name: shown[name].value() or "" for name in ("name", "website", "tags")}
    assert data["tags"] == '"Engineering, Civil", Placements'
    form = OrganisationForm(data, instance=org)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["Engineering, Civil", "Placements"]
    assert "tags" not in form.changed_data
    services.organisation_set_tags(organisation=org, tags=form.cleaned_data["tags"], by=operator)
    assert sorted(org.tags.names()) == ["Engineering, Civil", "Placements"]
    assert not AuditEntry.objects.filter(action="organisations.organisation.tagged").exists()


def test_tags_typed_with_semicolons_as_the_import_takes_them_are_refused_not_joined(operator):
    """ "Internships; Placements" was saved as one tag, found by a search for neither."""
    org = make("Ouse Civil Partners", operator, tags=["Old; kept"])
    form = OrganisationForm({"name": org.name, "tags": "Internships; Placements"}, instance=org)
    assert not form.is_valid()
    assert form.errors["tags"] == [
        "Separate tags with commas: “Internships; Placements” would be one tag, with the ; or | "
        "in its name."
    ]
    # One it already has stays: saving the profile unchanged is never refused.
    form = OrganisationForm({"name": org.name, "tags": "Old; kept, NHS"}, instance=org)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["Old; kept", "NHS"]


def test_tags_reuse_existing_spelling_whatever_the_case(operator):
    a = make("Org A", operator, tags=["NHS"])
    b = make("Org B", operator, tags=["nhs", "Placements", "placements"])
    assert sorted(b.tags.names()) == ["NHS", "Placements"]
    assert set(a.tags.names()) == {"NHS"}


@pytest.mark.django_db
def test_contacts_are_unique_by_email_within_an_organisation(operator):
    org = make("Org A", operator)
    services.contact_create(organisation=org, by=operator, full_name="A", email="a@x.com")
    with pytest.raises(ValidationError):
        services.contact_create(organisation=org, by=operator, full_name="B", email="A@X.com")
    other = make("Org B", operator)
    services.contact_create(organisation=other, by=operator, full_name="A", email="a@x.com")


@pytest.mark.django_db
def test_visibility_change_records_who_and_when(operator):
    org = make("Org A", operator)
    contact = services.contact_create(organisation=org, by=operator, full_name="A", email="a@x.com")
    assert contact.visible_to_students is False
    services.contact_update(contact=contact, by=operator, visible_to_students=True)
    contact.refresh_from_db()
    assert contact.visibility_changed_by == operator
    assert contact.visibility_changed_at is not None


@pytest.mark.django_db
def test_an_employer_who_signs_in_decides_what_students_see_not_staff(
    operator, brightwave, laura, caplog
):
    """Policy: employers decide whether their details are visible to students. Staff
    switched it on for an organisation whose administrator signs in."""
    contact = brightwave.contacts.filter(visible_to_students=False).first()
    with pytest.raises(ValidationError) as refused:
        services.contact_update(contact=contact, by=operator, visible_to_students=True)
    assert refused.value.message_dict["visible_to_students"] == [
        f"Brightwave Digital decides this itself: ask {laura}, who signs in for it, to let "
        "students see this person's details."
    ]
    assert "visibility_is_the_employers" in caplog.text
    with pytest.raises(ValidationError):
        services.contact_create(
            organisation=brightwave, by=operator, full_name="New", visible_to_students=True
        )
    contact.refresh_from_db()
    assert contact.visible_to_students is False
    # The employer decides; staff may still hide.
    services.contact_update(contact=contact, by=laura, visible_to_students=True)
    services.contact_update(contact=contact, by=operator, visible_to_students=False)
    contact.refresh_from_db()
    assert contact.visible_to_students is False and contact.visibility_changed_by == operator


@pytest.mark.django_db
def test_details_staff_type_onto_a_shown_contact_are_hidden_until_the_employer_shows_them(
    client, operator, brightwave, laura
):
    """The employer let students see one person's details: staff giving the record a new
    name, address or phone (perhaps someone else's) did not show those to students."""
    from django.urls import reverse

    contact = brightwave.contacts.filter(visible_to_students=True).first()
    changed = services.contact_update(contact=contact, by=operator, job_title="Head of talent")
    contact.refresh_from_db()
    assert "visible_to_students" not in changed and contact.visible_to_students
    changed = services.contact_update(
        contact=contact, by=operator, full_name="New Person", email="new.person@example.com"
    )
    contact.refresh_from_db()
    assert changed["visible_to_students"] == [True, False]
    assert contact.visible_to_students is False and contact.visibility_changed_by == operator
    # The employer changing their own people's details decides for themselves.
    services.contact_update(contact=contact, by=laura, visible_to_students=True)
    services.contact_update(contact=contact, by=laura, phone="0113 496 0000")
    contact.refresh_from_db()
    assert contact.visible_to_students is True
    # Through the staff form: saved, hidden, and told why.
    url = reverse("organisations:contact_edit", args=[brightwave.pk, contact.pk])
    client.force_login(operator)
    data = as_post(form_fields(client.get(url).content.decode(), containing="full_name"))
    data.update(phone=["0113 496 0999"])
    shown = client.post(url, data, follow=True).content.decode()
    contact.refresh_from_db()
    assert contact.phone == "0113 496 0999" and contact.visible_to_students is False
    assert f"Students no longer see {contact}&#x27;s details" in shown
    assert f"Ask {laura}, who signs in for it, to show them again." in shown


@pytest.mark.django_db
def test_an_organisation_nobody_signs_in_for_keeps_a_shown_contact_shown(operator):
    org = make("Org A", operator)
    contact = services.contact_create(
        organisation=org, by=operator, full_name="A", email="a@x.com", visible_to_students=True
    )
    services.contact_update(contact=contact, by=operator, email="b@x.com")
    contact.refresh_from_db()
    assert contact.visible_to_students is True


@pytest.mark.django_db
def test_the_staff_contact_form_says_the_employer_decides_and_keeps_what_was_typed(
    client, operator, brightwave
):
    from django.urls import reverse

    contact = brightwave.contacts.filter(visible_to_students=False).first()
    url = reverse("organisations:contact_edit", args=[brightwave.pk, contact.pk])
    client.force_login(operator)
    assert "you may hide these details, not show them" in client.get(url).content.decode()
    data = as_post(form_fields(client.get(url).content.decode(), containing="full_name"))
    data.update(visible_to_students=["on"], job_title=["Typed title"])
    refused = client.post(url, data)
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "Brightwave Digital decides this itself" in body and "Typed title" in body


@pytest.mark.django_db
def test_a_new_address_forgets_the_old_ones_bounce_and_the_audit_says_so(operator):
    org = make("Org A", operator)
    contact = services.contact_create(
        organisation=org, by=operator, full_name="A", email="a@old.example"
    )
    bounced = timezone.make_aware(datetime.datetime(2026, 3, 3, 9))
    Contact.objects.filter(pk=contact.pk).update(email_bounced_at=bounced)
    contact.refresh_from_db()
    services.contact_update(contact=contact, by=operator, email="a@new.example")
    contact.refresh_from_db()
    assert contact.email_bounced_at is None
    entry = AuditEntry.objects.filter(action="organisations.contact.changed").get()
    assert entry.data["changed"]["email"] == ["a@old.example", "a@new.example"]
    assert entry.data["changed"]["email_bounced_at"] == [bounced.isoformat(), None]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [{"email": " A@Old.Example "}, {"job_title": "Head of HR"}, {"phone": "0113 496 0123"}],
)
def test_the_same_address_keeps_its_bounce(operator, change):
    org = make("Org A", operator)
    contact = services.contact_create(
        organisation=org, by=operator, full_name="A", email="a@old.example"
    )
    Contact.objects.filter(pk=contact.pk).update(email_bounced_at=timezone.now())
    contact.refresh_from_db()
    services.contact_update(contact=contact, by=operator, **change)
    contact.refresh_from_db()
    assert contact.email_bounced_at is not None
    assert not any(
        "email_bounced_at" in e.data["changed"]
        for e in AuditEntry.objects.filter(action="organisations.contact.changed")
    )


@pytest.mark.django_db
def test_an_address_that_works_again_is_cleared_on_every_record_that_holds_it(operator, persona):
    """Bulk email leaves an address out for a bounce on any record holding it, so clearing
    one record alone would change nothing."""
    from mycareer.accounts.permissions import AccessDenied
    from mycareer.organisations.selectors import address_bounce

    first = services.contact_create(
        organisation=make("Org A", operator), by=operator, full_name="A", email="a@x.example"
    )
    second = services.contact_create(
        organisation=make("Org B", operator), by=operator, full_name="A", email="A@X.example"
    )
    bounced = timezone.make_aware(datetime.datetime(2026, 3, 3, 9))
    Contact.objects.filter(pk__in=[first.pk, second.pk]).update(email_bounced_at=bounced)
    with pytest.raises(AccessDenied):
        services.contact_address_works_again(contact=first, by=persona("viewer"))
    assert address_bounce("a@x.example") == (bounced, 2)

    assert services.contact_address_works_again(contact=first, by=operator) == 2
    assert address_bounce("a@x.example") == (None, 0)
    entries = AuditEntry.objects.filter(
        action="organisations.contact.changed", data__changed__has_key="email_bounced_at"
    )
    assert sorted(e.object_id for e in entries) == sorted([str(first.pk), str(second.pk)])
    assert all(
        e.data["changed"] == {"email_bounced_at": [bounced.isoformat(), None]} for e in entries
    )
    with pytest.raises(ValidationError, match="has not bounced: nothing to clear"):
        services.contact_address_works_again(contact=first, by=operator)


@pytest.mark.django_db
def test_notes_keep_last_engagement_and_follow_ups(operator):
    org = make("Org A", operator)
    day = timezone.localdate() - datetime.timedelta(days=10)
    note = services.note_create(
        organisation=org, by=operator, text="Met", date=day, follow_up_on=timezone.localdate()
    )
    org.refresh_from_db()
    assert org.last_engaged_on == day
    assert note.unit == operator.memberships.first().unit
    from mycareer.organisations.selectors import follow_ups_due

    assert list(follow_ups_due(operator).filter(organisation=org)) == [note]
    services.follow_up_complete(note=note, by=operator)
    assert list(follow_ups_due(operator).filter(organisation=org)) == []


@pytest.mark.django_db
def test_a_new_follow_up_date_on_a_note_whose_follow_up_was_done_is_due_again(operator):
    """Done, then given a new date on the note's edit page: it was saved but never due."""
    from mycareer.organisations.selectors import follow_ups_due

    org = make("Org A", operator)
    today = timezone.localdate()
    note = services.note_create(organisation=org, by=operator, text="Met", follow_up_on=today)
    services.follow_up_complete(note=note, by=operator)
    later = today + datetime.timedelta(days=7)
    changed = services.note_update(note=note, by=operator, follow_up_on=later)
    assert changed["follow_up_done"] == [True, False]
    assert list(follow_ups_due(operator).filter(organisation=org)) == [note]
    # Saving the note again as it is changes nothing, done or not.
    assert services.note_update(note=note, by=operator, follow_up_on=later) == {}
    services.follow_up_complete(note=note, by=operator)
    assert services.note_update(note=note, by=operator, text="Met again")["text"]
    note.refresh_from_db()
    assert note.follow_up_done


@pytest.mark.django_db
def test_a_note_is_of_what_happened_not_of_a_day_to_come(operator):
    """A note dated next month became the organisation's last engagement until then."""
    org = make("Org A", operator)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.note_create(organisation=org, by=operator, text="Fair", date=tomorrow)
    assert "choose today" in refused.value.message_dict["date"][0]
    note = services.note_create(organisation=org, by=operator, text="Fair")
    with pytest.raises(ValidationError):
        services.note_update(note=note, by=operator, date=tomorrow)
    org.refresh_from_db()
    assert org.last_engaged_on == timezone.localdate()
    assert note.organisation.notes.get().date == timezone.localdate()


@pytest.mark.django_db
def test_a_note_is_not_dated_before_the_year_2000(operator):
    """1900, or a year typed short, was recorded as the day of a conversation."""
    org = make("Org A", operator)
    for slip in (datetime.date(1900, 1, 1), datetime.date(24, 3, 5), datetime.date(1999, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            services.note_create(organisation=org, by=operator, text="Call", date=slip)
        assert "before 1 January 2000: check the year" in refused.value.message_dict["date"][0]
    assert services.note_create(
        organisation=org, by=operator, text="Call", date=datetime.date(2000, 1, 1)
    )
    note = services.note_create(organisation=org, by=operator, text="Call")
    with pytest.raises(ValidationError):
        services.note_update(note=note, by=operator, date=datetime.date(1900, 1, 1))
    assert Note.objects.get(pk=note.pk).date == timezone.localdate()


@pytest.mark.django_db
def test_a_follow_up_is_not_due_before_the_note_it_follows(operator):
    org = make("Org A", operator)
    today = timezone.localdate()
    met = today - datetime.timedelta(days=10)
    with pytest.raises(ValidationError) as refused:
        services.note_create(
            organisation=org,
            by=operator,
            text="Met",
            date=met,
            follow_up_on=met - datetime.timedelta(days=1),
        )
    assert "cannot come before the note's date" in refused.value.message_dict["follow_up_on"][0]
    assert not Note.objects.exists()
    # The same day, and a day already past (overdue), are fine.
    note = services.note_create(
        organisation=org, by=operator, text="Met", date=met, follow_up_on=met
    )
    later = met + datetime.timedelta(days=3)
    assert services.note_update(note=note, by=operator, follow_up_on=later)["follow_up_on"]
    # Moving the note's date past its follow-up is refused on the follow-up.
    with pytest.raises(ValidationError) as refused:
        services.note_update(note=note, by=operator, date=today)
    assert list(refused.value.message_dict) == ["follow_up_on"]
    assert Note.objects.get(pk=note.pk).date == met


@pytest.mark.django_db
def test_a_follow_up_years_ahead_is_taken_for_a_slip_of_the_year(operator):
    """9999-12-31 was taken, and waited in nobody's follow-ups for ever."""
    org = make("Org A", operator)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        services.note_create(
            organisation=org,
            by=operator,
            text="Met",
            date=today,
            follow_up_on=datetime.date(9999, 12, 31),
        )
    [message] = refused.value.message_dict["follow_up_on"]
    assert message.startswith("A follow-up can be set up to 5 years ahead")
    assert "(31 December 9999 was typed)" in message
    assert not Note.objects.exists()
    ahead = services._years_after(today, 5)
    note = services.note_create(
        organisation=org, by=operator, text="Met", date=today, follow_up_on=ahead
    )
    assert note.follow_up_on == ahead


@pytest.mark.django_db
def test_a_note_stored_before_the_date_rules_keeps_its_dates_when_its_text_is_corrected(
    operator,
):
    """Only the dates a save changes are checked: correcting a word of an old note does
    not make its author invent another date."""
    org = make("Org A", operator)
    note = services.note_create(organisation=org, by=operator, text="Met")
    Note.objects.filter(pk=note.pk).update(
        date=datetime.date(1995, 6, 1), follow_up_on=datetime.date(1990, 1, 1)
    )
    note.refresh_from_db()
    changed = services.note_update(
        note=note, by=operator, text="Met Ruth", date=note.date, follow_up_on=note.follow_up_on
    )
    assert list(changed) == ["text"]
    # Changing one date checks both together.
    with pytest.raises(ValidationError) as refused:
        services.note_update(note=note, by=operator, follow_up_on=datetime.date(1994, 1, 1))
    assert "follow_up_on" in refused.value.message_dict


@pytest.mark.django_db
def test_a_note_cannot_name_another_organisations_contact(operator):
    a, b = make("Org A", operator), make("Org B", operator)
    stranger = services.contact_create(organisation=b, by=operator, full_name="S", email="s@b.com")
    with pytest.raises(ValidationError):
        services.note_create(organisation=a, by=operator, text="Met", contacts=[stranger])


@pytest.mark.django_db
def test_merge_moves_every_related_row_and_loses_nothing(operator, persona):
    survivor = make("Acme Ltd", operator, website="https://acme.co.uk", tags=["Placements"])
    other = make(
        "ACME Limited", operator, description="Makers of everything", tags=["NHS", "placements"]
    )
    shared = services.contact_create(
        organisation=survivor, by=operator, full_name="Jo", email="jo@acme.co.uk"
    )
    twin = services.contact_create(
        organisation=other,
        by=operator,
        full_name="Jo B",
        email="JO@acme.co.uk",
        phone="0113 496 0123",
    )
    services.contact_opt_out(contact=twin, purpose="events", method="staff", by=operator)
    services.contact_create(
        organisation=other, by=operator, full_name="Sam", email="sam@acme.co.uk"
    )
    services.note_create(organisation=survivor, by=operator, text="one", contacts=[shared])
    services.note_create(organisation=other, by=operator, text="two", contacts=[twin])
    services.note_create(organisation=other, by=operator, text="three")
    before_notes = Note.objects.filter(organisation__in=[survivor, other]).count()

    summary = services.organisation_merge(
        survivor=survivor, other=other, keep={"description": "other"}, by=operator
    )

    survivor.refresh_from_db()
    other.refresh_from_db()
    assert survivor.description == "Makers of everything"
    assert survivor.notes.count() == 3 == before_notes
    assert sorted(survivor.tags.names()) == ["NHS", "Placements"]
    assert sorted(survivor.contacts.values_list("email", flat=True)) == [
        "jo@acme.co.uk",
        "sam@acme.co.uk",
    ]
    jo = survivor.contacts.get(email="jo@acme.co.uk")
    assert jo.phone == "0113 496 0123"
    assert jo.notes.count() == 2
    assert EmailOptOut.objects.filter(contact=jo, purpose="events").exists()
    assert other.merged_into == survivor
    assert other.status == Organisation.Status.ARCHIVED
    assert Contact.objects.filter(organisation=other).count() == 0
    assert summary["contacts merged by email"] == 1
    assert AuditEntry.objects.filter(action="organisations.organisation.merged").exists()


@pytest.mark.django_db
def test_the_merge_preview_says_which_contacts_move_and_which_are_combined_as_the_merge_does(
    operator,
):
    """It said "moves 2 contacts" when one of them would be combined with the survivor's
    contact of the same email."""
    survivor = make("Acme Ltd", operator)
    other = make("ACME Limited", operator)
    services.contact_create(organisation=survivor, by=operator, full_name="Jo", email="jo@a.uk")
    services.contact_create(organisation=other, by=operator, full_name="Jo B", email="JO@a.uk")
    services.contact_create(organisation=other, by=operator, full_name="Sam", email="sam@a.uk")
    services.contact_create(organisation=other, by=operator, full_name="Ann", email="")
    services.note_create(organisation=other, by=operator, text="two")

    text = services.merge_preview_text(survivor, other)
    summary = services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)

    assert text == (
        "moves 2 contacts and 1 note here, and combines 1 contact with Acme Ltd's contact of "
        "the same email, who stays: Jo B with Jo"
    )
    assert summary["contacts moved"] == 2 and summary["contacts merged by email"] == 1
    assert sorted(survivor.contacts.values_list("full_name", flat=True)) == ["Ann", "Jo", "Sam"]


@pytest.mark.django_db
def test_the_merge_preview_of_contacts_all_combined_says_nothing_moves(operator):
    survivor, other = make("Acme Ltd", operator), make("ACME Limited", operator)
    for org, name in ((survivor, "Jo"), (other, "Jo B")):
        services.contact_create(organisation=org, by=operator, full_name=name, email="jo@a.uk")
    assert services.merge_preview_text(survivor, other) == (
        "moves nothing here, and combines 1 contact with Acme Ltd's contact of the same "
        "email, who stays: Jo B with Jo"
    )


@pytest.mark.django_db
def test_a_record_merged_away_takes_no_note_contact_or_change_naming_its_survivor(operator):
    """A page opened before the merge, or the API, would write onto the archived record:
    its page redirects to the survivor, so nobody would see what was written."""
    survivor = make("Acme Ltd", operator)
    other = make("ACME Limited", operator)
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)
    refusal = "ACME Limited was merged into Acme Ltd: add or change anything on Acme Ltd instead."
    for write in (
        lambda: services.note_create(organisation=other, by=operator, text="Met them"),
        lambda: services.contact_create(
            organisation=other, by=operator, full_name="Jo", email="jo@acme.co.uk"
        ),
        lambda: services.organisation_update(organisation=other, by=operator, description="Makers"),
    ):
        with pytest.raises(ValidationError) as refused:
            write()
        assert refused.value.messages == [refusal]
    assert not Note.objects.filter(organisation=other).exists()
    assert not Contact.objects.filter(organisation=other).exists()


@pytest.mark.django_db
def test_the_merged_check_reads_the_record_under_its_lock_so_a_merge_under_way_is_waited_for(
    operator,
):
    """Read unlocked, a note or contact that checked while a merge held both records went
    onto the merged-away one once the merge committed. Each write is handed the record as
    fetched before the merge; the check reads it again, asking for the row's lock."""
    survivor = make("Acme Ltd", operator)
    other = make("ACME Limited", operator)
    fetched_before = Organisation.objects.get(pk=other.pk)
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)
    assert fetched_before.merged_into_id is None
    for write in (
        lambda: services.note_create(organisation=fetched_before, by=operator, text="Met"),
        lambda: services.contact_create(organisation=fetched_before, by=operator, full_name="Jo"),
        lambda: services.organisation_update(
            organisation=fetched_before, by=operator, description="Makers"
        ),
    ):
        with row_locks() as asked, pytest.raises(ValidationError) as refused:
            write()
        assert refused.value.code == "merged"
        assert asked == [Organisation]


@pytest.mark.django_db
def test_a_record_merged_away_since_the_page_was_opened_is_not_merged_again(operator):
    """Asked of the records as the page fetched them, a merge that landed meanwhile went
    unseen: the record was merged a second time, or into a record merged away itself."""
    first, second = make("Acme Ltd", operator), make("Acme Group", operator)
    other, third = make("ACME Limited", operator), make("Acme UK", operator)
    other_as_fetched = Organisation.objects.get(pk=other.pk)
    first_as_fetched = Organisation.objects.get(pk=first.pk)
    services.organisation_merge(survivor=first, other=other, keep={}, by=operator)
    with pytest.raises(ValidationError, match="already merged"):
        services.organisation_merge(survivor=second, other=other_as_fetched, keep={}, by=operator)
    other.refresh_from_db()
    assert other.merged_into == first

    services.organisation_merge(survivor=second, other=first, keep={}, by=operator)
    with pytest.raises(
        ValidationError, match="Acme Ltd was merged into Acme Group: merge into Acme Group instead"
    ):
        services.organisation_merge(survivor=first_as_fetched, other=third, keep={}, by=operator)
    third.refresh_from_db()
    assert third.merged_into is None


@pytest.mark.django_db
def test_merging_a_record_into_itself_is_refused(operator):
    org = make("Org A", operator)
    with pytest.raises(ValidationError):
        services.organisation_merge(survivor=org, other=org, keep={}, by=operator)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # about the demo data itself: a believable spread to explore
def test_demo_data_has_organisations_with_contacts_tags_and_notes(cast):
    assert Organisation.objects.count() >= 40
    assert Contact.objects.count() >= 80
    assert Note.objects.count() >= 40
    org = Organisation.objects.get(name="Brightwave Digital")
    assert org.contacts.filter(user=cast["employer"]).exists()
