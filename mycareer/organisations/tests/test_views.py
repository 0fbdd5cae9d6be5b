import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts.models import Unit
from mycareer.audit.models import AuditEntry
from mycareer.core.tests.html_forms import as_post, form_fields
from mycareer.organisations import selectors, services
from mycareer.organisations.models import Contact, KeyAccount, KeyContact, Note, Organisation
from mycareer.organisations.tests.factories import make_organisation


@pytest.fixture
def org(persona):
    operator = persona("operator")
    org = services.organisation_create(
        by=operator,
        name="Zephyr Turbines",
        website="https://zephyr-turbines.co.uk",
        description="Wind turbine maker",
        tags=["Placements"],
    )
    services.contact_create(
        organisation=org,
        by=operator,
        full_name="Hidden Person",
        email="hidden@zephyr-turbines.co.uk",
        phone="0113 000 1111",
    )
    services.contact_create(
        organisation=org,
        by=operator,
        full_name="Open Person",
        email="open@zephyr-turbines.co.uk",
        visible_to_students=True,
    )
    services.note_create(organisation=org, by=operator, text="Secret staff note about salaries")
    return org


@pytest.mark.django_db
def test_operator_creates_an_organisation_and_is_warned_of_a_duplicate(client, persona, org):
    # "nhs" is typed; the tag is already spelled "NHS" elsewhere.
    make_organisation("Aire Valley Health NHS Trust", tags=["NHS"])
    client.force_login(persona("operator"))
    url = reverse("organisations:create")
    data = {"name": "Zephyr Turbines Limited", "website": "", "tags": "nhs, Placements"}
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "may already be in MyCareer" in body
    assert "Zephyr Turbines" in body and "Same name" in body
    assert 'value="Zephyr Turbines Limited"' in body  # what was typed is kept
    assert not Organisation.objects.filter(name="Zephyr Turbines Limited").exists()
    response = client.post(url, {**data, "confirm_duplicates": "yes"})
    assert response.status_code == 302
    created = Organisation.objects.get(name="Zephyr Turbines Limited")
    assert sorted(created.tags.names()) == ["NHS", "Placements"]


@pytest.mark.django_db
def test_renaming_an_organisation_to_a_likely_duplicate_is_asked_first(client, persona):
    """The edit form meets the check the create form does: a rename could make the
    duplicate that creating it would have been refused as."""
    make_organisation("Zephyr Turbines Ltd", website="https://zephyr-turbines.example")
    # A second record of one domain, confirmed when it was made: saving it unchanged,
    # its address written another way, asks nothing.
    org = make_organisation("Zephyr Blades", website="http://zephyr-turbines.example")
    client.force_login(persona("operator"))
    url = reverse("organisations:edit", args=[org.pk])
    data = as_post(form_fields(client.get(url).content.decode(), containing="website"))
    data["website"] = ["https://www.zephyr-turbines.example/"]
    assert client.post(url, data).status_code == 302

    data = as_post(form_fields(client.get(url).content.decode(), containing="website"))
    data["name"] = ["Zephyr Turbines Limited"]
    page = client.post(url, data)
    assert page.status_code == 200
    body = page.content.decode()
    assert "may already be in MyCareer" in body and "merge the two" in body
    assert 'value="Zephyr Turbines Limited"' in body  # what was typed is kept
    assert "save it anyway" in body
    org.refresh_from_db()
    assert org.name == "Zephyr Blades"  # nothing saved yet

    assert client.post(url, {**data, "confirm_duplicates": "yes"}).status_code == 302
    org.refresh_from_db()
    assert org.name == "Zephyr Turbines Limited"


@pytest.mark.django_db
def test_an_edit_saved_unchanged_says_nothing_was_changed(client, persona, laura, brightwave):
    """It said "saved", as if it had changed something."""
    contact = brightwave.contacts.first()
    client.force_login(persona("operator"))
    for url, field in [
        (reverse("organisations:edit", args=[brightwave.pk]), "website"),
        (reverse("organisations:contact_edit", args=[brightwave.pk, contact.pk]), "full_name"),
    ]:
        data = as_post(form_fields(client.get(url).content.decode(), containing=field))
        done = client.post(url, data, follow=True).content.decode()
        assert "Nothing was changed." in done and "saved" not in done, url
    client.force_login(laura)
    for url, field in [
        (reverse("employer:profile"), "website"),
        (reverse("employer:contact_edit", args=[contact.pk]), "full_name"),
    ]:
        data = as_post(form_fields(client.get(url).content.decode(), containing=field))
        done = client.post(url, data, follow=True).content.decode()
        assert "Nothing was changed." in done and "is saved" not in done, url
    assert not AuditEntry.objects.filter(action__endswith=".changed").exists()


@pytest.mark.django_db
def test_saving_the_edit_form_unchanged_keeps_a_tag_with_a_comma(client, persona):
    """Opened and saved unchanged, the form split "Engineering, Civil" into two tags."""
    operator = persona("operator")
    org = services.organisation_create(
        by=operator,
        name="Ouse Civil Partners",
        tags=["Engineering, Civil", 'The "Big Four"', "Placements"],
        confirm_duplicates=True,
    )
    url = reverse("organisations:edit", args=[org.pk])
    client.force_login(operator)
    page = client.get(url).content.decode()
    data = as_post(form_fields(page, containing="tags", pressing_enter=True))

    assert client.post(url, data).status_code == 302
    assert sorted(org.tags.names()) == ["Engineering, Civil", "Placements", 'The "Big Four"']
    assert not AuditEntry.objects.filter(action="organisations.organisation.tagged").exists()
    assert data["tags"] == ['"Engineering, Civil", Placements, "The ""Big Four"""']
    assert "A tag with a comma in it goes in double quotes" in page

    # A tag typed in double quotes is one tag; the others stay as they were.
    data["tags"] = [data["tags"][0] + ', "Mechanical, Aerospace"']
    assert client.post(url, data).status_code == 302
    assert sorted(org.tags.names()) == [
        "Engineering, Civil",
        "Mechanical, Aerospace",
        "Placements",
        'The "Big Four"',
    ]


@pytest.mark.django_db
def test_an_invalid_organisation_form_keeps_what_was_typed(client, persona):
    client.force_login(persona("operator"))
    response = client.post(
        reverse("organisations:create"),
        {"name": "", "website": "not a url at all", "description": "Keep me"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Keep me" in body
    assert "Enter a valid URL" in body


@pytest.mark.django_db
def test_a_logo_that_is_not_an_image_is_refused(client, persona):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(persona("operator"))
    fake = SimpleUploadedFile("logo.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post(reverse("organisations:create"), {"name": "Logo Test Org", "logo": fake})
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="Logo Test Org").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status"),
    [("viewer", 403), ("untrained", 403), ("student", 403), ("operator", 200), ("manager", 200)],
)
def test_only_operators_reach_the_create_page(client, persona, name, status):
    client.force_login(persona(name))
    assert client.get(reverse("organisations:create")).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "status"), [("operator", 403), ("manager", 200), ("viewer", 403)])
def test_only_operators_with_delete_reach_delete_and_archive(client, persona, org, name, status):
    client.force_login(persona(name))
    assert client.get(reverse("organisations:delete", args=[org.pk])).status_code == status
    assert client.get(reverse("organisations:archive", args=[org.pk])).status_code == status


@pytest.mark.django_db
def test_restoring_a_record_merged_away_says_why_not_and_leaves_it_archived(client, persona):
    """A page opened before the merge: restored, the archived record would be live again."""
    survivor = make_organisation("Acme Ltd")
    other = make_organisation("ACME Limited")
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=None)
    client.force_login(persona("manager"))

    response = client.post(reverse("organisations:archive", args=[other.pk]))

    assert response.status_code == 302
    [message] = get_messages(response.wsgi_request)
    assert (
        str(message)
        == "ACME Limited was merged into Acme Ltd: add or change anything on Acme Ltd instead."
    )
    other.refresh_from_db()
    assert other.status == Organisation.Status.ARCHIVED


@pytest.mark.django_db
def test_an_old_link_to_a_form_of_a_record_merged_away_opens_it_on_the_survivor(client, persona):
    """The form opened for the merged-away record, took what was typed, then refused it."""
    survivor = make_organisation("Acme Ltd")
    other = make_organisation("ACME Limited")
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=None)
    client.force_login(persona("operator"))
    for name in ["edit", "note_create", "contact_create"]:
        response = client.get(reverse(f"organisations:{name}", args=[other.pk]))
        assert response.url == reverse(f"organisations:{name}", args=[survivor.pk])
        page = client.get(response.url).content.decode()  # the message, read once
        assert "ACME Limited was merged into Acme Ltd." in page


@pytest.mark.django_db
def test_an_old_link_to_a_contact_or_note_of_a_record_merged_away_opens_it(client, persona):
    """They moved with the merge, but their pages under the old record were a 404."""
    tom = persona("operator")
    survivor = make_organisation("Acme Ltd")
    other = make_organisation("ACME Limited")
    contact = services.contact_create(
        organisation=other, by=tom, full_name="Wile Coyote", email="wile@acme-limited.example"
    )
    note = services.note_create(organisation=other, by=tom, text="Talked rockets.")
    pages = {
        "contact": reverse("organisations:contact", args=[other.pk, contact.pk]),
        "contact_edit": reverse("organisations:contact_edit", args=[other.pk, contact.pk]),
        "note_edit": reverse("organisations:note_edit", args=[other.pk, note.pk]),
    }
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=None)
    client.force_login(tom)
    for name, old in pages.items():
        response = client.get(old)
        assert response.status_code == 302, name
        moved = note.pk if name == "note_edit" else contact.pk
        assert response.url == reverse(f"organisations:{name}", args=[survivor.pk, moved])
        assert client.get(response.url).status_code == 200
    # Another record's number in the link is still no way in.
    stranger = make_organisation("Road Runner Ltd")
    url = reverse("organisations:contact", args=[stranger.pk, contact.pk])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_old_links_to_the_merge_and_key_contact_pages_of_a_record_merged_away_open_them(
    client, persona
):
    """They were a 404, where the record's other pages open on the survivor."""
    tom = persona("operator")
    survivor = make_organisation("Acme Ltd")
    other = make_organisation("ACME Limited")
    third = make_organisation("Acme Rockets")
    contact = services.contact_create(
        organisation=other, by=tom, full_name="Wile Coyote", email="wile@acme-limited.example"
    )
    KeyAccount.objects.create(organisation=other, operator=tom, unit=Unit.objects.first())
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=None)
    client.force_login(tom)
    for name in ["key_contact_mark", "key_contact_unmark", "liaison_request_create"]:
        response = client.get(reverse(f"organisations:{name}", args=[other.pk, contact.pk]))
        assert response.url == reverse(f"organisations:{name}", args=[survivor.pk, contact.pk])
    # Marked from an old page (the form posts to the old address), it is done all the same.
    url = reverse("organisations:key_contact_mark", args=[other.pk, contact.pk])
    assert client.post(url, {"guidance": "Email first"}).status_code == 302
    assert KeyContact.objects.filter(contact=contact, key_account__organisation=survivor).exists()

    client.force_login(persona("admin"))
    url = reverse("organisations:multi_touch", args=[other.pk])
    assert client.get(url).url == reverse("organisations:multi_touch", args=[survivor.pk])
    merge = reverse("organisations:merge", args=[other.pk])
    response = client.get(merge, {"other": third.pk})
    assert response.url == reverse("organisations:merge", args=[survivor.pk]) + f"?other={third.pk}"
    assert "ACME Limited was merged into Acme Ltd." in client.get(response.url).content.decode()
    # The merge page open from before: nothing merges into the record merged away.
    response = client.post(merge, {"other": third.pk})
    assert response.url == reverse("organisations:merge", args=[survivor.pk]) + f"?other={third.pk}"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "ACME Limited was merged into Acme Ltd: nothing was changed. Merge into Acme Ltd instead."
    ]
    third.refresh_from_db()
    assert third.merged_into is None


@pytest.mark.django_db
def test_an_old_link_to_a_contact_combined_with_another_by_a_merge_opens_the_one_it_became(
    client, persona
):
    """The same email at both records: folded into the survivor's contact and deleted, its
    pages (from old emails, bookmarks, the audit trail) were a 404."""
    tom = persona("operator")
    survivor = make_organisation("Acme Ltd")
    other = make_organisation("ACME Limited")
    kept = services.contact_create(
        organisation=survivor, by=tom, full_name="Wile E. Coyote", email="wile@acme.example"
    )
    folded = services.contact_create(
        organisation=other, by=tom, full_name="Wile Coyote", email="WILE@acme.example"
    )
    KeyAccount.objects.create(organisation=survivor, operator=tom, unit=Unit.objects.first())
    pages = [
        "contact",
        "contact_edit",
        "contact_email",
        "key_contact_mark",
        "liaison_request_create",
    ]
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=None)
    assert not Contact.objects.filter(pk=folded.pk).exists()
    client.force_login(tom)
    for name in pages:
        for at in (other, survivor):  # the old record's number, or the survivor's
            response = client.get(reverse(f"organisations:{name}", args=[at.pk, folded.pk]))
            assert response.status_code == 302, name
            assert response.url == reverse(f"organisations:{name}", args=[survivor.pk, kept.pk])
    page = client.get(reverse("organisations:contact", args=[other.pk, folded.pk]), follow=True)
    assert (
        "That contact was combined with Wile E. Coyote, who had the same email, when two "
        "records of Acme Ltd were merged." in page.content.decode()
    )
    # Deleting: the person it was is kept, so their page, not a form to delete them.
    client.force_login(persona("admin"))
    url = reverse("organisations:contact_delete", args=[other.pk, folded.pk])
    assert client.get(url).url == kept.get_absolute_url()
    # Combined again in a later merge, the old links follow to the last one.
    newer = make_organisation("Acme Group")
    last = services.contact_create(
        organisation=newer, by=tom, full_name="Wile Coyote", email="wile@acme.example"
    )
    services.organisation_merge(survivor=newer, other=survivor, keep={}, by=None)
    response = client.get(reverse("organisations:contact", args=[other.pk, folded.pk]))
    assert response.url == reverse("organisations:contact", args=[newer.pk, last.pk])
    # Another record's number in the link is still no way in; nor is it once deleted.
    stranger = make_organisation("Road Runner Ltd")
    assert (
        client.get(reverse("organisations:contact", args=[stranger.pk, folded.pk])).status_code
        == 404
    )
    services.contact_delete(contact=last, by=persona("admin"))
    assert (
        client.get(reverse("organisations:contact", args=[other.pk, folded.pk])).status_code == 404
    )


@pytest.mark.django_db
def test_delete_needs_the_confirmation_box(client, persona, org):
    client.force_login(persona("manager"))
    url = reverse("organisations:delete", args=[org.pk])
    assert client.post(url, {}).status_code == 200
    assert Organisation.objects.filter(pk=org.pk).exists()
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert not Organisation.objects.filter(pk=org.pk).exists()


@pytest.mark.django_db
def test_staff_profile_shows_contacts_notes_and_timeline(
    client, persona, org, django_assert_max_num_queries
):
    client.force_login(persona("viewer"))
    # A few queries per timeline source (notes, events, bookings, vacancies, emails).
    with django_assert_max_num_queries(25):
        response = client.get(org.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "hidden@zephyr-turbines.co.uk" in body
    assert "Secret staff note about salaries" in body
    assert "Record a note" not in body  # a viewer reads only


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("untrained", "Your operator training ran out after"),
        ("viewer", "Your access level is Viewer; to create and edit records you need"),
    ],
)
def test_a_profile_without_note_button_says_why_and_what_to_do(client, persona, org, who, reason):
    """An operator whose training lapsed came to record a call and found no button and no
    word why: the page now says it, as the refusal would, with the way to their access."""
    client.force_login(persona(who))
    body = client.get(org.get_absolute_url()).content.decode()
    assert "Record a note" not in body
    assert reason in body
    assert reverse("accounts:my_access") in body


@pytest.mark.django_db
def test_the_contact_page_shows_a_bounce_until_the_address_is_corrected(client, persona, org):
    contact = org.contacts.get(full_name="Hidden Person")
    bounced = timezone.make_aware(datetime.datetime(2026, 3, 3, 9))
    org.contacts.filter(pk=contact.pk).update(email_bounced_at=bounced)
    client.force_login(persona("manager"))
    shown = client.get(contact.get_absolute_url()).content.decode()
    assert (
        "Email to this address bounced on 3 March 2026: bulk email leaves it out. "
        "Correct the address to send again, or, if you know it works again" in shown
    )
    url = reverse("organisations:contact_edit", args=[org.pk, contact.pk])
    data = as_post(form_fields(client.get(url).content.decode(), containing="email"))
    data["email"] = ["hidden.person@zephyr-turbines.co.uk"]
    assert client.post(url, data).status_code == 302
    assert "bounced" not in client.get(contact.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_student_sees_the_public_profile_without_notes_or_hidden_contacts(client, persona, org):
    client.force_login(persona("student"))
    response = client.get(org.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "Wind turbine maker" in body
    assert "open@zephyr-turbines.co.uk" in body
    assert "hidden@zephyr-turbines.co.uk" not in body
    assert "0113 000 1111" not in body
    assert "Hidden Person" not in body
    assert "Secret staff note" not in body
    assert "Placements" not in body  # tags are staff-only
    for name in ["edit", "merge", "note_create", "contact_create", "delete", "archive"]:
        status = client.get(reverse(f"organisations:{name}", args=[org.pk])).status_code
        assert status == 403, name
    contact = org.contacts.first()
    assert client.get(contact.get_absolute_url()).status_code == 403


@pytest.mark.django_db
def test_students_cannot_see_archived_or_pending_organisations(client, persona, org):
    services.organisation_archive(organisation=org, by=persona("manager"))
    client.force_login(persona("student"))
    assert client.get(org.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_operator_records_a_note_naming_contacts(client, persona, org):
    client.force_login(persona("operator"))
    contact = org.contacts.get(full_name="Open Person")
    response = client.post(
        reverse("organisations:note_create", args=[org.pk]),
        {
            "kind": "call",
            "date": "2026-11-20",
            "contacts": [contact.pk],
            "text": "Talked about fairs",
        },
    )
    assert response.status_code == 302
    note = Note.objects.get(text="Talked about fairs")
    assert list(note.contacts.all()) == [contact]
    assert str(note.date) == "2026-11-20"
    assert note.author == persona("operator")


@pytest.mark.django_db
def test_a_note_page_sent_twice_records_one_note(client, persona, org):
    client.force_login(persona("operator"))
    url = reverse("organisations:note_create", args=[org.pk])
    data = as_post(form_fields(client.get(url).content.decode(), containing="text"))
    data.update(kind=["call"], date=["2026-11-20"], text=["Rang about the fair"])
    assert client.post(url, data).status_code == 302
    # Back draws the page afresh, and the browser puts back what was typed.
    again = as_post(form_fields(client.get(url).content.decode(), containing="text"))
    again.update(kind=["call"], date=["2026-11-20"], text=["Rang about the fair"])
    again = client.post(url, again, follow=True)
    assert "This page was already sent and saved" in again.content.decode()
    assert Note.objects.filter(text="Rang about the fair").count() == 1


@pytest.mark.django_db
def test_only_the_author_or_a_deleter_may_change_a_note(client, persona, org):
    note = org.notes.first()
    url = reverse("organisations:note_edit", args=[org.pk, note.pk])
    client.force_login(persona("mailer"))  # has delete level
    assert client.get(url).status_code == 200
    other = persona("untrained")
    from django.utils import timezone

    from mycareer.accounts.models import TrainingCourse
    from mycareer.accounts.services import training_completion_record

    training_completion_record(
        user=other,
        course=TrainingCourse.objects.get(code="operator"),
        completed_on=timezone.localdate(),
        by=None,
    )
    client.force_login(other)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_merge_page_moves_the_duplicate_into_the_survivor(client, persona, org):
    operator = persona("operator")
    dup = services.organisation_create(
        by=operator, name="Zephyr Turbine Co", confirm_duplicates=True, locations="Hull"
    )
    services.note_create(organisation=dup, by=operator, text="Note on the duplicate")
    client.force_login(operator)
    url = reverse("organisations:merge", args=[org.pk])
    page = client.get(url).content.decode()
    assert "Zephyr Turbine Co" in page
    response = client.post(
        url, {"other": dup.pk, "keep_locations": "other", "keep_name": "survivor"}
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Zephyr Turbine Co was merged into {org.name}: 1 note."
    ]
    org.refresh_from_db()
    assert org.locations == "Hull"
    assert org.notes.filter(text="Note on the duplicate").exists()
    assert client.get(dup.get_absolute_url()).url == org.get_absolute_url()


@pytest.mark.django_db
def test_merge_page_says_what_will_move_and_merges_a_login_at_both(client, persona, org):
    """An employer who is a member of both records: the merge used to fail with a 500."""
    from mycareer.organisations.models import EmployerMembership

    operator, laura = persona("operator"), persona("employer")
    dup = services.organisation_create(by=operator, name="Zephyr Turbines", confirm_duplicates=True)
    services.note_create(organisation=dup, by=operator, text="First call")
    services.note_create(organisation=dup, by=operator, text="Second call")
    services.contact_create(organisation=dup, by=operator, full_name="Ann Lee", email="a@z.example")
    for record in (org, dup):
        EmployerMembership.objects.create(user=laura, organisation=record, status="active")
    client.force_login(operator)
    url = reverse("organisations:merge", args=[org.pk])
    page = " ".join(client.get(url, {"other": dup.pk}).content.decode().split())
    assert "moves 1 contact, 2 notes and 1 employer login here" in page

    response = client.post(url, {"other": dup.pk})

    assert response.status_code == 302
    assert EmployerMembership.objects.filter(user=laura, organisation=org).count() == 1
    assert not EmployerMembership.objects.filter(organisation=dup).exists()


@pytest.mark.django_db
def test_tag_suggestions_reuse_existing_spelling(client, persona, org):
    client.force_login(persona("operator"))
    data = client.get(reverse("organisations:tag_suggestions"), {"q": "place"}).json()
    assert "Placements" in data["tags"]
    client.force_login(persona("student"))
    assert client.get(reverse("organisations:tag_suggestions"), {"q": "place"}).status_code == 403


@pytest.mark.django_db
def test_a_name_several_organisations_share_is_suggested_numbered_as_the_event_form_reads_it(
    client, persona, django_assert_num_queries
):
    """The suggestions gave "Acme Ltd" twice, and the event form refuses a bare name that
    several organisations share, asking which one: picking a suggestion led to an error."""
    import datetime

    from mycareer.events.models import Event
    from mycareer.events.tests.factories import far_monday, unit

    operator = persona("operator")
    first, second = (
        services.organisation_create(
            by=operator, name="Acme Ltd", website=site, confirm_duplicates=True
        )
        for site in ("https://acme.example.com", "https://acme-uk.example.com")
    )
    widgets = services.organisation_create(
        by=operator, name="Acme Widgets", confirm_duplicates=True
    )
    # A namesake merged into another record is no longer one to tell apart.
    gone = services.organisation_create(by=operator, name="Acme Widgets", confirm_duplicates=True)
    Organisation.objects.filter(pk=gone.pk).update(merged_into=widgets)
    with django_assert_num_queries(1):  # namesakes and sectors in the same query
        assert len(selectors.organisation_suggestions("acme")) == 3
    client.force_login(operator)

    found = client.get(reverse("organisations:suggestions"), {"q": "acme"}).json()
    assert found["organisations"] == [
        {
            "id": first.pk,
            "name": "Acme Ltd",
            "value": f"Acme Ltd (no. {first.pk})",
            "about": "acme.example.com",
        },
        {
            "id": second.pk,
            "name": "Acme Ltd",
            "value": f"Acme Ltd (no. {second.pk})",
            "about": "acme-uk.example.com",
        },
        {"id": widgets.pk, "name": "Acme Widgets", "value": "Acme Widgets"},
    ]

    # Picked, the second line names that very organisation in the event form.
    day = far_monday() + datetime.timedelta(days=7)
    picked = found["organisations"][1]["value"]
    response = client.post(
        reverse("events:create"),
        {
            "title": "Acme open day",
            "type": Event.Type.WORKSHOP,
            "unit": str(unit("mech").pk),
            "starts_at": f"{day:%Y-%m-%d}T10:00",
            "ends_at": f"{day:%Y-%m-%d}T11:30",
            "venue": "Room 2",
            "organisations": f"{picked}\nAcme Widgets\n",
            "audience_units": [str(unit("mech").pk)],
        },
    )
    assert response.status_code == 302
    event = Event.objects.get(title="Acme open day")
    assert sorted(event.organisations.values_list("pk", flat=True)) == [second.pk, widgets.pk]


@pytest.mark.django_db
def test_my_activity_lists_follow_ups_and_marks_them_done(client, persona, org):
    from django.utils import timezone

    operator = persona("operator")
    note = services.note_create(
        organisation=org,
        by=operator,
        text="Chase the placement offer",
        follow_up_on=timezone.localdate(),
    )
    client.force_login(operator)
    page = client.get(reverse("organisations:my_activity")).content.decode()
    assert "Chase the placement offer" in page
    done = reverse("organisations:follow_up_done", args=[org.pk, note.pk])
    assert client.post(done, {"next": "https://evil.example.com/"}).url == reverse(
        "organisations:my_activity"
    )
    note.refresh_from_db()
    assert note.follow_up_done


@pytest.mark.django_db
def test_deleting_a_saved_search_asks_first_naming_it(client, persona):
    """One press on "Delete" deleted the search; a second press was a bare error page."""
    from mycareer.organisations.models import SavedSearch
    from mycareer.organisations.search import OrganisationQuery

    operator, manager = persona("operator"), persona("manager")
    query = OrganisationQuery(tags_all=("Placements",), location="Leeds")
    saved = services.saved_search_create(owner=operator, name="Leeds placements", query=query)
    theirs = services.saved_search_create(owner=manager, name="Theirs", query=query)
    url = reverse("organisations:saved_search_delete", args=[saved.pk])
    client.force_login(operator)

    listed = client.get(reverse("organisations:search"), {"location": "York"}).content.decode()
    back = "/organisations/%3Flocation%3DYork"
    assert f'<a href="{url}?next={back}">Delete' in listed
    assert f'action="{url}"' not in listed  # no longer a button that deletes at once

    page = client.get(f"{url}?next=/organisations/%3Flocation%3DYork").content.decode()
    assert "<h1>Delete the saved search “Leeds placements”?</h1>" in page
    assert "It finds: Organisations tagged Placements, located in Leeds." in page
    assert (
        '<button type="submit" class="button--danger">Yes, delete “Leeds placements”</button>'
        in page
    )
    assert '<a href="/organisations/?location=York">No, keep it</a>' in page
    assert SavedSearch.objects.filter(pk=saved.pk).exists()

    data = as_post(form_fields(page, containing="next"))
    response = client.post(url, data, follow=True)
    assert response.redirect_chain == [("/organisations/?location=York", 302)]
    assert "The saved search “Leeds placements” is deleted." in response.content.decode()
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()

    # Pressed again, or from a page left open: a message, and nothing else deleted.
    for again in (client.post(url, data, follow=True), client.get(url, follow=True)):
        assert again.status_code == 200
        assert "That saved search is already deleted: nothing was changed." in (
            again.content.decode()
        )
    assert AuditEntry.objects.filter(action="organisations.saved_search.deleted").count() == 1

    # Another person's is not there to ask about or to delete.
    other = reverse("organisations:saved_search_delete", args=[theirs.pk])
    assert client.get(other).status_code == 404
    assert client.post(other).status_code == 404
    assert SavedSearch.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_a_saved_search_deleted_meanwhile_is_not_deleted_twice(persona):
    """Two presses at once: the second finds it gone, says so and records nothing."""
    from django.core.exceptions import ValidationError

    from mycareer.organisations.search import OrganisationQuery

    operator = persona("operator")
    query = OrganisationQuery(location="Leeds")
    saved = services.saved_search_create(owner=operator, name="Leeds", query=query)
    services.saved_search_delete(saved_search=saved, by=operator)
    with pytest.raises(ValidationError) as raised:
        services.saved_search_delete(saved_search=saved, by=operator)
    assert raised.value.messages == [
        "The saved search “Leeds” is already deleted: nothing was changed."
    ]
    assert AuditEntry.objects.filter(action="organisations.saved_search.deleted").count() == 1


@pytest.mark.django_db
def test_a_note_can_be_reached_for_correction_from_the_organisation_page(client, persona, org):
    """The note's author finds an edit link beside it; a viewer, who may not change it, not."""
    note = org.notes.get()
    edit = reverse("organisations:note_edit", args=[org.pk, note.pk])
    client.force_login(persona("operator"))
    assert f'href="{edit}"' in client.get(org.get_absolute_url()).content.decode()
    client.force_login(persona("viewer"))
    page = client.get(org.get_absolute_url()).content.decode()
    assert "Secret staff note" in page
    assert f'href="{edit}"' not in page


@pytest.mark.django_db
def test_a_note_longer_than_a_text_box_takes_is_refused_in_figures_and_kept(client, persona, org):
    """A 200,000-character call note saved; every text box of several lines takes at
    most 20,000 characters, as the API does, and the box keeps what was pasted."""
    client.force_login(persona("operator"))
    url = reverse("organisations:note_create", args=[org.pk])
    data = as_post(form_fields(client.get(url).content.decode(), containing="text"))
    long = "Rang about the fair. " * 1200
    data.update(kind=["call"], date=["2026-11-20"], text=[long])
    page = client.post(url, data)
    assert page.status_code == 200
    body = page.content.decode()
    said = f"Keep it to 20,000 characters (about 3,000 words): it has {len(long.strip()):,}."
    assert said in body
    assert long.strip() in body and 'maxlength="20000"' not in body
    assert not Note.objects.filter(text__startswith="Rang about the fair.").exists()


@pytest.mark.django_db
def test_a_note_dated_1900_or_followed_up_before_it_is_refused_beside_the_field(
    client, persona, org
):
    client.force_login(persona("operator"))
    url = reverse("organisations:note_create", args=[org.pk])
    data = as_post(form_fields(client.get(url).content.decode(), containing="text"))
    data.update(kind=["call"], date=["1900-03-04"], text=["Rang about the fair"])
    page = client.post(url, data)
    assert page.status_code == 200
    body = page.content.decode()
    assert "before 1 January 2000: check the year" in body
    assert 'id="id_date_error"' in body  # beside the date, not only on top
    assert 'value="1900-03-04"' in body and "Rang about the fair" in body
    data.update(date=["2025-01-10"], follow_up_on=["2025-01-09"])
    body = client.post(url, data).content.decode()
    assert "cannot come before the note&#x27;s date (10 January 2025)" in body
    assert 'value="2025-01-09"' in body
    assert not Note.objects.filter(text="Rang about the fair").exists()


@pytest.mark.django_db
def test_a_stored_note_whose_dates_break_the_rules_opens_and_saves_unchanged(client, persona, org):
    """Stored before the rules: its edit page opens, saved as it is or with a word
    corrected it keeps its dates; a new date that breaks a rule is refused there."""
    note = org.notes.get()
    Note.objects.filter(pk=note.pk).update(
        date=datetime.date(1999, 5, 1), follow_up_on=datetime.date(1999, 4, 1)
    )
    client.force_login(persona("operator"))
    url = reverse("organisations:note_edit", args=[org.pk, note.pk])
    opened = client.get(url)
    assert opened.status_code == 200
    assert "check the year" not in opened.content.decode()
    data = as_post(form_fields(opened.content.decode(), containing="text"))
    assert client.post(url, data).status_code == 302
    data.update(text=["Secret staff note about salaries, corrected"])
    assert client.post(url, data).status_code == 302
    note.refresh_from_db()
    assert note.text.endswith("corrected")
    assert (note.date, note.follow_up_on) == (datetime.date(1999, 5, 1), datetime.date(1999, 4, 1))
    data = as_post(form_fields(client.get(url).content.decode(), containing="text"))
    data.update(follow_up_on=["1999-03-01"])
    refused = client.post(url, data).content.decode()
    assert "cannot come before the note&#x27;s date (1 May 1999)" in refused
    assert 'value="1999-03-01"' in refused
    note.refresh_from_db()
    assert note.follow_up_on == datetime.date(1999, 4, 1)


# Saved unchanged from a browser ----------------------------------------------------------
# A browser sends a text box's line breaks as "\r\n"; text from the API or an import has
# "\n". The same words sent back are no change: nothing written, nothing recorded.

CRLF = "\r\n"


def _said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _as_a_browser_sends(client, url: str, field: str) -> dict:
    page = client.get(url).content.decode()
    return as_post(form_fields(page, containing=field, pressing_enter=True, line_breaks=CRLF))


@pytest.mark.django_db
def test_an_organisation_s_description_from_a_browser_unchanged_is_no_change(client, persona, org):
    Organisation.objects.filter(pk=org.pk).update(description="Wind turbines.\nBlades too.")
    client.force_login(persona("operator"))
    url = reverse("organisations:edit", args=[org.pk])
    data = _as_a_browser_sends(client, url, "name")
    assert data["description"] == ["Wind turbines.\r\nBlades too."]

    response = client.post(url, data, follow=True)
    assert _said(response) == ["Nothing was changed."]
    assert not AuditEntry.objects.filter(action="organisations.organisation.changed").exists()

    data["description"] = ["Wind turbines.\r\nBlades and towers."]
    response = client.post(url, data, follow=True)
    assert _said(response) == ["The profile is saved."]
    org.refresh_from_db()
    assert org.description == "Wind turbines.\nBlades and towers."
    entry = AuditEntry.objects.get(action="organisations.organisation.changed")
    assert list(entry.data["changed"]) == ["description"]


@pytest.mark.django_db
def test_a_note_saved_unchanged_says_so_and_records_nothing(client, persona, org):
    note = org.notes.get()
    Note.objects.filter(pk=note.pk).update(text="Rang Sam.\n\nWants two interns.")
    note.refresh_from_db()
    client.force_login(persona("operator"))
    url = reverse("organisations:note_edit", args=[org.pk, note.pk])
    data = _as_a_browser_sends(client, url, "text")
    assert data["text"] == ["Rang Sam.\r\n\r\nWants two interns."]

    response = client.post(url, data, follow=True)
    assert _said(response) == ["Nothing was changed."]
    assert not AuditEntry.objects.filter(action="organisations.note.changed").exists()
    assert Note.objects.get(pk=note.pk).updated_at == note.updated_at

    data["text"] = ["Rang Sam.\r\n\r\nWants three interns."]
    response = client.post(url, data, follow=True)
    assert _said(response) == ["The note is saved."]
    assert Note.objects.get(pk=note.pk).text == "Rang Sam.\n\nWants three interns."
    entry = AuditEntry.objects.get(action="organisations.note.changed")
    assert list(entry.data["changed"]) == ["text"]


@pytest.mark.django_db
def test_an_address_that_works_again_is_recorded_from_the_contact_page(client, persona, org):
    """A bounced address could only be cleared by changing it: one whose mail server was
    down for a day stayed out of every bulk email for good."""
    contact = org.contacts.get(full_name="Hidden Person")
    org.contacts.filter(pk=contact.pk).update(email_bounced_at=timezone.now())
    clear = reverse("organisations:contact_bounce_clear", args=[org.pk, contact.pk])
    client.force_login(persona("viewer"))
    shown = client.get(contact.get_absolute_url()).content.decode()
    assert "bulk email leaves it out" in shown
    assert clear not in shown
    assert client.post(clear).status_code == 403

    client.force_login(persona("manager"))
    shown = client.get(contact.get_absolute_url()).content.decode()
    assert f'action="{clear}"' in shown
    assert f">Record that email to {contact.email} works again</button>" in shown
    assert "This address is on" not in shown  # one record: nothing more to say
    # The same address on another organisation's record: said before the press, not after.
    elsewhere = make_organisation("Zephyr Holdings", by=persona("operator"))
    services.contact_create(
        organisation=elsewhere, by=persona("operator"), full_name="Hidden", email=contact.email
    )
    elsewhere.contacts.update(email_bounced_at=timezone.now())
    shown = client.get(contact.get_absolute_url()).content.decode()
    assert "This address is on 2 records (this one and 1 more, perhaps at other" in shown
    done = client.post(clear, follow=True).content.decode()
    assert (
        f"Recorded: email to {contact.email} works again (2 records). Bulk email no longer "
        "leaves it out for bouncing." in done
    )
    assert "bulk email leaves it out" not in done
    contact.refresh_from_db()
    assert contact.email_bounced_at is None
    # Pressed again, from a page left open: nothing to clear, and it says so.
    again = client.post(clear, follow=True).content.decode()
    assert "has not bounced: nothing to clear" in again
