"""Key accounts: protected contacts, the liaison step, multi-touch organisations."""

import datetime
import html
import logging
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from mycareer.audit.models import AuditEntry
from mycareer.organisations import keyaccounts, services
from mycareer.organisations.models import Contact, KeyContact, LiaisonRequest, Note
from mycareer.organisations.tests.factories import make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(persona, cast):
    """An organisation whose key account is Tom's, with Ruth as his key contact."""
    tom, admin = persona("operator"), persona("admin")
    org = services.organisation_create(
        by=tom, name="Quillfeather Instruments", confirm_duplicates=True
    )
    ruth = services.contact_create(
        organisation=org, by=tom, full_name="Ruth Key", email="ruth@quill.co.uk"
    )
    other = services.contact_create(
        organisation=org, by=tom, full_name="Open Door", email="open@quill.co.uk"
    )
    account = keyaccounts.key_account_create(
        organisation=org, operator=tom, unit=cast["units"]["mech"], by=admin
    )
    link = keyaccounts.key_contact_mark(
        account=account, contact=ruth, guidance="Ask Tom first.", by=tom
    )
    ruth.refresh_from_db()
    return {"org": org, "ruth": ruth, "other": other, "account": account, "link": link, "tom": tom}


@pytest.fixture
def atlas(persona):
    """A large organisation marked multi-touch: no single owner."""
    organisation = make_organisation("Atlas Global Bank", tags=["Times Top 100"])
    keyaccounts.organisation_set_multi_touch(
        organisation=organisation, multi_touch=True, by=persona("admin")
    )
    organisation.refresh_from_db()
    return organisation


def test_the_star_comes_from_the_contact_itself(setup):
    assert setup["ruth"].display_name == "Ruth Key *"
    assert setup["other"].display_name == "Open Door"


def test_owner_and_administrator_are_never_stopped(setup, persona):
    ruth = setup["ruth"]
    assert keyaccounts.contact_blockers(contact=ruth, user=setup["tom"]) == []
    assert keyaccounts.contact_blockers(contact=ruth, user=persona("admin")) == []
    services.note_create(
        organisation=setup["org"], by=setup["tom"], text="Met Ruth", contacts=[ruth]
    )
    # A bulk email is another matter: only the owner's agreement lets it reach Ruth.
    assert keyaccounts.contact_blockers(contact=ruth, user=setup["tom"], bulk=True) == []
    assert keyaccounts.contact_blockers(contact=ruth, user=persona("admin"), bulk=True) == [
        setup["link"]
    ]


def test_an_administrator_is_told_their_bulk_email_leaves_a_key_contact_out_and_may_ask(
    client, setup, persona
):
    ruth, admin = setup["ruth"], persona("admin")
    client.force_login(admin)
    page = client.get(ruth.get_absolute_url()).content.decode()
    assert "your bulk emails leave them out until Tom Bennett agrees" in page
    assert "Before you contact" not in page
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    assert client.post(url, {"reason": "Fair", "proposed_engagement": "Bulk"}).status_code == 302
    assert LiaisonRequest.objects.filter(requester=admin, key_contact__contact=ruth).exists()
    # While it waits for an answer, asking again is not offered (it would be refused).
    page = client.get(ruth.get_absolute_url()).content.decode()
    assert "Your last request: waiting for an answer" in page
    assert "Ask to contact" not in page
    client.force_login(setup["tom"])
    page = client.get(ruth.get_absolute_url()).content.decode()
    assert "Ask to contact" not in page


def test_another_operator_is_stopped_until_the_owner_agrees(setup, persona):
    helen, ruth = persona("manager"), setup["ruth"]
    assert keyaccounts.contact_blockers(contact=ruth, user=helen) == [setup["link"]]
    with pytest.raises(ValidationError) as raised:
        services.note_create(organisation=setup["org"], by=helen, text="Rang Ruth", contacts=[ruth])
    assert "key contact of Tom Bennett" in str(raised.value)
    assert "operator@demo.ac.uk" in str(raised.value)
    # Contacts who are not protected can be named freely.
    services.note_create(
        organisation=setup["org"], by=helen, text="Rang Open", contacts=[setup["other"]]
    )


def test_pending_declined_approved_and_expired_liaison(setup, persona):
    helen, ruth, tom = persona("manager"), setup["ruth"], setup["tom"]
    [pending] = keyaccounts.liaison_request_create(
        requester=helen, contact=ruth, reason="Fair", proposed_engagement="Invite to the fair"
    )
    assert keyaccounts.contact_blockers(contact=ruth, user=helen)  # pending is not agreement
    keyaccounts.liaison_request_decide(
        request=pending, approve=False, by=tom, comment="Not this year"
    )
    assert keyaccounts.contact_blockers(contact=ruth, user=helen)
    [again] = keyaccounts.liaison_request_create(
        requester=helen, contact=ruth, reason="Fair", proposed_engagement="Spring fair"
    )
    keyaccounts.liaison_request_decide(
        request=again, approve=True, by=tom, comment="Yes", valid_days=30
    )
    assert keyaccounts.contact_blockers(contact=ruth, user=helen) == []
    services.note_create(organisation=setup["org"], by=helen, text="Invited Ruth", contacts=[ruth])
    later = timezone.localdate() + datetime.timedelta(days=31)
    assert keyaccounts.contact_blockers(contact=ruth, user=helen, today=later)
    assert not Note.objects.filter(organisation=setup["org"], text__startswith="Liaison:")


def test_asking_again_while_waiting_keeps_what_was_typed_and_says_so(setup, persona, client):
    """Asking a second time while the first request waits sent nothing and lost the new
    text, yet the page said "Your request was sent"."""
    helen, ruth = persona("manager"), setup["ruth"]
    [first] = keyaccounts.liaison_request_create(
        requester=helen, contact=ruth, reason="Fair", proposed_engagement="Invite to the fair"
    )
    with pytest.raises(ValidationError) as raised:
        keyaccounts.liaison_request_create(
            requester=helen, contact=ruth, reason="Panel", proposed_engagement="Spring panel"
        )
    assert "not answered yet" in str(raised.value)
    assert list(LiaisonRequest.objects.filter(requester=helen, key_contact__contact=ruth)) == [
        first
    ]

    client.force_login(helen)
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    page = client.post(url, {"reason": "Panel", "proposed_engagement": "Spring panel"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "not answered yet" in text and "Spring panel" in text
    assert "Your request was sent" not in text


def test_a_liaison_answer_is_no_engagement_with_the_employer(setup, persona):
    """An answer between two members of staff wrote a note that moved the employer's
    last engagement (and its score), as if someone had spoken to them."""
    org = setup["org"]
    long_ago = timezone.localdate() - datetime.timedelta(days=90)
    services.note_create(organisation=org, by=setup["tom"], text="Met", date=long_ago)
    org.refresh_from_db()
    assert org.last_engaged_on == long_ago
    [request] = keyaccounts.liaison_request_create(
        requester=persona("manager"), contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    keyaccounts.liaison_request_decide(
        request=request, approve=False, by=setup["tom"], comment="Not this term"
    )
    org.refresh_from_db()
    assert org.last_engaged_on == long_ago and org.notes.count() == 1
    request.refresh_from_db()  # the answer is kept where both of them read it
    assert (request.status, request.comment) == ("declined", "Not this term")


def test_only_the_owner_or_an_administrator_answers(setup, persona):
    [request] = keyaccounts.liaison_request_create(
        requester=persona("manager"), contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    with pytest.raises(ValidationError):
        keyaccounts.liaison_request_decide(request=request, approve=True, by=persona("mailer"))
    keyaccounts.liaison_request_decide(request=request, approve=True, by=persona("admin"))
    with pytest.raises(ValidationError, match="already been answered"):
        keyaccounts.liaison_request_decide(request=request, approve=False, by=setup["tom"])


def test_multi_touch_organisations_have_no_protected_contacts(setup, persona):
    admin, org = persona("admin"), setup["org"]
    with pytest.raises(ValidationError):
        keyaccounts.organisation_set_multi_touch(
            organisation=org, multi_touch=True, by=setup["tom"]
        )
    released = keyaccounts.organisation_set_multi_touch(
        organisation=org, multi_touch=True, by=admin
    )
    assert released == [setup["account"]]
    ruth = setup["ruth"].__class__.objects.get(pk=setup["ruth"].pk)
    assert ruth.display_name == "Ruth Key"
    assert keyaccounts.contact_blockers(contact=ruth, user=persona("manager")) == []
    with pytest.raises(ValidationError, match="multi-touch"):
        keyaccounts.key_contact_mark(
            account=setup["account"], contact=ruth, guidance="", by=setup["tom"]
        )


def test_bulk_email_eligibility_gives_the_reason(setup, persona):
    reason = keyaccounts.key_contact_exclusion(contact=setup["ruth"], sender=persona("mailer"))
    assert reason == "excluded: key contact of Tom Bennett, no liaison agreement"
    assert keyaccounts.key_contact_exclusion(contact=setup["ruth"], sender=setup["tom"]) is None
    assert (
        keyaccounts.key_contact_exclusion(contact=setup["other"], sender=persona("mailer")) is None
    )


def test_only_administrators_reassign_and_it_is_audited(setup, persona):
    account, helen = setup["account"], persona("manager")
    with pytest.raises(ValidationError):
        keyaccounts.key_account_reassign(account=account, operator=helen, by=setup["tom"])
    keyaccounts.key_account_reassign(account=account, operator=helen, by=persona("admin"))
    assert keyaccounts.contact_blockers(contact=setup["ruth"], user=helen) == []
    assert keyaccounts.contact_blockers(contact=setup["ruth"], user=setup["tom"])
    entry = AuditEntry.objects.get(
        action="organisations.key_account.reassigned", object_id=str(account.pk)
    )
    assert entry.data == {
        "from": "operator@demo.ac.uk",
        "to": "manager@demo.ac.uk",
        "organisation": setup["org"].pk,
    }


def test_a_key_account_is_not_reassigned_to_a_login_that_cannot_hold_one(client, setup, persona):
    """A read-only login could neither answer liaison requests nor change the key contacts."""
    account, viewer = setup["account"], persona("viewer")
    with pytest.raises(ValidationError, match="cannot hold a key account"):
        keyaccounts.key_account_reassign(account=account, operator=viewer, by=persona("admin"))
    account.refresh_from_db()
    assert account.operator == setup["tom"]
    url = reverse("organisations:key_account_reassign", args=[setup["org"].pk, account.pk])
    client.force_login(persona("admin"))
    page = html.unescape(client.post(url, {"operator": viewer.pk}).content.decode())
    assert "Daniel Hughes cannot edit records, so cannot hold a key account." in page
    assert not AuditEntry.objects.filter(action="organisations.key_account.reassigned").exists()


def test_reassigning_to_the_same_owner_says_nothing_was_changed(client, setup, persona):
    account = setup["account"]
    url = reverse("organisations:key_account_reassign", args=[setup["org"].pk, account.pk])
    client.force_login(persona("admin"))
    response = client.post(url, {"operator": setup["tom"].pk}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    assert not AuditEntry.objects.filter(action="organisations.key_account.reassigned").exists()
    response = client.post(url, {"operator": persona("manager").pk}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert said == ["The key account now belongs to Helen Marsh."]


def test_operators_cannot_claim_key_accounts_for_other_units(setup, persona, cast):
    with pytest.raises(ValidationError):
        keyaccounts.key_account_create(
            organisation=setup["org"],
            operator=setup["tom"],
            unit=cast["units"]["history"],
            by=setup["tom"],
        )


# Pages -----------------------------------------------------------------------------


def test_profile_and_contact_show_the_star_and_the_owner(client, setup, persona):
    client.force_login(persona("viewer"))
    body = client.get(setup["org"].get_absolute_url()).content.decode()
    assert "Ruth Key *" in body
    assert "key contact of Tom Bennett" in body
    assert "<em>Ask Tom first</em>. Liaise with them" in body  # one full stop, not two
    assert "Open Door *" not in body


def test_a_refused_note_says_whom_to_ask_and_keeps_the_text(client, setup, persona):
    client.force_login(persona("manager"))
    response = client.post(
        reverse("organisations:note_create", args=[setup["org"].pk]),
        {
            "kind": "call",
            "date": "2026-11-20",
            "contacts": [setup["ruth"].pk],
            "text": "Typed words stay",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "key contact of Tom Bennett" in body
    assert "Typed words stay" in body
    assert not Note.objects.filter(text="Typed words stay").exists()


def test_liaison_journey_through_the_pages(client, setup, persona):
    ruth = setup["ruth"]
    client.force_login(persona("manager"))
    page = client.get(ruth.get_absolute_url()).content.decode()
    assert "Ask to contact Ruth Key" in page
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    assert client.post(url, {"reason": "Fair", "proposed_engagement": "Invite"}).status_code == 302
    request = LiaisonRequest.objects.get(requester=persona("manager"), key_contact__contact=ruth)
    detail = reverse("organisations:liaison_request", args=[request.pk])
    assert (
        client.post(detail, {"decision": "approve", "valid_days": 90}).status_code == 200
    )  # not the owner
    client.force_login(persona("mailer"))
    assert client.get(detail).status_code == 404  # strangers do not see it
    client.force_login(setup["tom"])
    assert (
        client.post(
            detail, {"decision": "approve", "valid_days": 90, "comment": "Go ahead"}
        ).status_code
        == 302
    )
    request.refresh_from_db()
    assert request.status == LiaisonRequest.Status.APPROVED


def test_a_second_answer_from_a_stale_page_is_refused_aloud(client, setup, persona):
    """Agreed in one tab, declined in another: the second page showed "Agreed" with no
    word that the decline just given was not sent."""
    [request] = keyaccounts.liaison_request_create(
        requester=persona("manager"), contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    keyaccounts.liaison_request_decide(request=request, approve=True, by=setup["tom"])
    client.force_login(setup["tom"])
    detail = reverse("organisations:liaison_request", args=[request.pk])
    page = client.post(detail, {"decision": "decline", "comment": "No"}, follow=True)
    assert "already answered: your answer was not sent" in page.content.decode()
    request.refresh_from_db()
    assert request.status == LiaisonRequest.Status.APPROVED


@pytest.mark.django_db(transaction=True)
def test_request_and_answer_emails_are_really_sent(setup, persona, smtp_server, run_worker):
    tom, helen, ruth = setup["tom"], persona("manager"), setup["ruth"]
    [request] = keyaccounts.liaison_request_create(
        requester=helen,
        contact=ruth,
        reason="Fair",
        proposed_engagement="Invite to the spring fair",
    )
    run_worker()
    asked = [m for m in smtp_server.wait_for(1) if "asks to contact Ruth Key" in m["Subject"]]
    assert len(asked) == 1
    assert asked[0]["To"] == "operator@demo.ac.uk"
    assert asked[0]["Reply-To"] == "manager@demo.ac.uk"
    assert "Invite to the spring fair" in asked[0].get_content()
    keyaccounts.liaison_request_decide(request=request, approve=False, by=tom, comment="Not now")
    run_worker()
    answers = [
        m for m in smtp_server.wait_for(2) if "Contacting Ruth Key: declined" in m["Subject"]
    ]
    assert len(answers) == 1
    assert answers[0]["To"] == "manager@demo.ac.uk"
    assert "Not now" in answers[0].get_content()


@pytest.mark.usefixtures("demo")  # about the demo data itself: each key-account state to see
def test_demo_story_has_key_accounts_multi_touch_and_a_pending_request(cast):
    from mycareer.organisations.models import KeyContact, Organisation

    assert KeyContact.objects.count() >= 3
    assert Organisation.objects.filter(multi_touch=True).count() == 5
    assert LiaisonRequest.objects.filter(status=LiaisonRequest.Status.PENDING).exists()


def test_search_by_key_account_yes_no_mine_and_multi_touch(client, setup, persona, atlas):
    from mycareer.organisations.search import OrganisationQuery, search_organisations

    org, tom = setup["org"], setup["tom"]
    plain = make_organisation("Plain Partners")
    mercia = make_organisation("Mercia Rail")
    keyaccounts.organisation_set_multi_touch(
        organisation=mercia, multi_touch=True, by=persona("admin")
    )
    has = set(search_organisations(OrganisationQuery(key_account="yes")))
    assert org in has
    assert set(search_organisations(OrganisationQuery(key_account="no"))) >= {plain}
    assert org not in set(search_organisations(OrganisationQuery(key_account="no")))
    mine = set(search_organisations(OrganisationQuery(key_account="mine", viewer=tom.pk)))
    assert org in mine
    helen = persona("manager")
    assert org not in set(
        search_organisations(OrganisationQuery(key_account="mine", viewer=helen.pk))
    )
    multi = set(search_organisations(OrganisationQuery(key_account="multi")))
    assert {o.name for o in multi} == {"Atlas Global Bank", "Mercia Rail"}
    assert all(o.multi_touch for o in multi)
    # "mine" is saved as mine, whoever reruns it.
    assert (
        OrganisationQuery(key_account="mine", viewer=tom.pk).to_querystring() == "key_account=mine"
    )


def test_search_results_and_export_show_the_owner_and_the_star(client, setup, persona):
    make_organisation("Elsewhere Ltd")  # an export leaves some organisation out
    client.force_login(persona("viewer"))
    page = client.get("/organisations/", {"text": "Quillfeather"}).content.decode()
    assert "Tom Bennett (School of Mechanical Engineering)" in page
    export = client.get("/organisations/export.csv", {"text": "Quillfeather"})
    body = b"".join(export.streaming_content).decode()
    assert "Ruth Key *" in body
    assert "School of Mechanical Engineering: Tom Bennett" in body


# Multi-touch and key accounts exclude each other -------------------------------------


def test_a_multi_touch_organisation_cannot_get_a_key_account(client, persona, cast, atlas):
    from mycareer.organisations.models import KeyAccount

    assert atlas.multi_touch
    with pytest.raises(ValidationError, match="multi-touch"):
        keyaccounts.key_account_create(
            organisation=atlas,
            operator=persona("manager"),
            unit=cast["units"]["eps"],
            by=persona("admin"),
        )
    client.force_login(persona("admin"))
    url = reverse("organisations:key_account_add", args=[atlas.pk])
    page = client.get(url).content.decode()
    assert "it has no key accounts" in page
    assert 'name="unit"' not in page
    response = client.post(url, {"unit": cast["units"]["eps"].pk})
    assert "it has no key accounts" in response.content.decode()
    assert not KeyAccount.objects.filter(organisation=atlas).exists()
    profile = client.get(atlas.get_absolute_url()).content.decode()
    assert "Add a key account" not in profile


def test_marking_multi_touch_releases_and_unmarking_restores_everything(setup, persona):
    from mycareer.organisations.models import Contact, KeyAccount
    from mycareer.organisations.search import OrganisationQuery, search_organisations

    org, tom, admin, helen = setup["org"], setup["tom"], persona("admin"), persona("manager")
    [agreed] = keyaccounts.liaison_request_create(
        requester=helen, contact=setup["ruth"], reason="Fair", proposed_engagement="Invite"
    )
    keyaccounts.liaison_request_decide(request=agreed, approve=True, by=tom, valid_days=30)

    keyaccounts.organisation_set_multi_touch(organisation=org, multi_touch=True, by=admin)
    org.refresh_from_db()
    assert list(org.key_accounts.all()) == []
    ruth = Contact.objects.get(pk=setup["ruth"].pk)
    assert ruth.display_name == "Ruth Key"
    assert keyaccounts.contact_blockers(contact=ruth, user=persona("mailer")) == []
    assert org not in set(search_organisations(OrganisationQuery(key_account="yes")))
    assert org in set(search_organisations(OrganisationQuery(key_account="no")))

    keyaccounts.organisation_set_multi_touch(organisation=org, multi_touch=False, by=admin)
    org.refresh_from_db()
    [account] = org.key_accounts.all()
    assert account.pk == setup["account"].pk
    assert (account.operator, account.unit, account.released_at) == (
        tom,
        setup["account"].unit,
        None,
    )
    ruth = Contact.objects.get(pk=setup["ruth"].pk)
    [link] = ruth.key_links_list
    assert (link.pk, link.guidance) == (setup["link"].pk, "Ask Tom first.")
    assert ruth.display_name == "Ruth Key *"
    # Protection and the agreement in force come back as they were.
    assert keyaccounts.contact_blockers(contact=ruth, user=persona("mailer")) == [link]
    assert keyaccounts.contact_blockers(contact=ruth, user=helen) == []
    assert KeyAccount.with_released.filter(organisation=org).count() == 1
    actions = list(
        AuditEntry.objects.filter(action="organisations.organisation.multi_touch")
        .filter(object_id=str(org.pk))
        .order_by("pk")
        .values_list("data", flat=True)
    )
    assert actions[0]["key_accounts_released"][0]["key_contacts"] == [ruth.pk]
    assert actions[1]["key_accounts_restored"][0]["operator"] == "operator@demo.ac.uk"


def test_the_confirmation_names_what_will_be_released_and_a_stale_page_changes_nothing(
    client, setup, persona
):
    org = setup["org"]
    url = reverse("organisations:multi_touch", args=[org.pk])
    client.force_login(persona("admin"))
    page = client.get(url).content.decode()
    assert "Mark Quillfeather Instruments as multi-touch?" in page
    assert "1 key account and 1 key contact will stop protecting" in page
    assert "Ruth Key *" in page and "Tom Bennett" in page and "Ask Tom first." in page
    assert "Open Door" not in page
    # A page still offering "no longer multi-touch" (someone marked it meanwhile) does nothing.
    response = client.post(url, {"multi_touch": "no"})
    assert response.status_code == 200
    assert "Someone changed this organisation meanwhile" in response.content.decode()
    org.refresh_from_db()
    assert not org.multi_touch
    response = client.post(url, {"multi_touch": "yes"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.multi_touch
    restore = client.get(url).content.decode()
    assert "What will be restored" in restore and "Ruth Key *" in restore
    client.force_login(setup["tom"])
    assert client.get(url).status_code == 403


def test_the_multi_touch_confirmation_gives_no_address_of_an_owner_who_left(client, setup, persona):
    url = reverse("organisations:multi_touch", args=[setup["org"].pk])
    client.force_login(persona("admin"))
    assert f"mailto:{setup['tom'].email}" in client.get(url).content.decode()
    _leaves(setup["tom"])
    page = client.get(url).content.decode()
    assert "key account of Tom Bennett (has left)" in page
    assert setup["tom"].email not in page


def test_merging_into_a_multi_touch_record_releases_the_other_records_key_accounts(
    setup, persona, atlas
):
    from mycareer.organisations.models import KeyAccount

    admin, tom = persona("admin"), setup["tom"]
    services.organisation_merge(survivor=atlas, other=setup["org"], keep={}, by=admin)
    atlas.refresh_from_db()
    assert atlas.multi_touch
    assert list(atlas.key_accounts.all()) == []
    moved = KeyAccount.with_released.get(pk=setup["account"].pk)
    assert moved.organisation == atlas and moved.released_at is not None
    keyaccounts.organisation_set_multi_touch(organisation=atlas, multi_touch=False, by=admin)
    assert {a.operator for a in atlas.key_accounts.all()} == {tom}


@pytest.mark.django_db(transaction=True)
def test_owners_are_emailed_when_their_key_accounts_are_released_and_restored(
    setup, persona, smtp_server, run_worker
):
    org, admin = setup["org"], persona("admin")
    run_worker()
    before = len(smtp_server.messages())
    keyaccounts.organisation_set_multi_touch(organisation=org, multi_touch=True, by=admin)
    run_worker()
    [released] = smtp_server.wait_for(before + 1)[before:]
    assert released["To"] == "operator@demo.ac.uk"
    assert released["Subject"] == (
        "[MyCareer] Quillfeather Instruments is now multi-touch: "
        "your key contacts there are released"
    )
    body = released.get_content()
    assert "Ruth Key" in body and "Ask Tom first." in body and "come back as they were" in body
    keyaccounts.organisation_set_multi_touch(organisation=org, multi_touch=False, by=admin)
    run_worker()
    [restored] = smtp_server.wait_for(before + 2)[before + 1 :]
    assert restored["To"] == "operator@demo.ac.uk"
    assert "no longer multi-touch: your key account is back" in restored["Subject"]


# Inbound contact ----------------------------------------------------------------------


def test_contact_the_key_contact_started_is_recorded_and_flagged_to_the_owner(
    client, setup, persona
):
    from mycareer.organisations.models import Note

    helen, ruth, org = persona("manager"), setup["ruth"], setup["org"]
    note = services.note_create(
        organisation=org,
        by=helen,
        kind=Note.Kind.CALL,
        started_by=Note.StartedBy.THEM,
        text="Ruth rang about the spring fair.",
        contacts=[ruth],
    )
    entry = AuditEntry.objects.get(action="organisations.note.created", object_id=str(note.pk))
    assert entry.data["started_by"] == "them"
    assert entry.data["inbound_key_contacts"] == [ruth.pk]
    # The owner's liaison page lists it; nobody else's does.
    client.force_login(setup["tom"])
    inbox = client.get(reverse("organisations:liaison_inbox")).content.decode()
    assert "Your key contacts who got in touch with colleagues" in inbox
    assert "Ruth rang about the spring fair." in inbox
    assert "contacted Helen Marsh" in inbox
    client.force_login(persona("mailer"))
    other = client.get(reverse("organisations:liaison_inbox")).content.decode()
    assert "Ruth rang about the spring fair." not in other
    # Contact we start is still refused.
    with pytest.raises(keyaccounts.KeyContactsNeedLiaison):
        services.note_create(organisation=org, by=helen, text="Rang Ruth", contacts=[ruth])


def test_an_inbound_note_cannot_be_turned_into_contact_we_started(setup, persona):
    from mycareer.organisations.models import Note

    helen, ruth = persona("manager"), setup["ruth"]
    note = services.note_create(
        organisation=setup["org"],
        by=helen,
        started_by=Note.StartedBy.THEM,
        text="Ruth wrote to us.",
        contacts=[ruth],
    )
    with pytest.raises(ValidationError, match="key contact of Tom Bennett"):
        services.note_update(note=note, by=helen, started_by=Note.StartedBy.US)
    note.refresh_from_db()
    assert note.started_by == Note.StartedBy.THEM


def test_the_refusal_links_straight_to_ask_to_contact_and_keeps_what_was_typed(
    client, setup, persona
):
    org, ruth = setup["org"], setup["ruth"]
    client.force_login(persona("manager"))
    url = reverse("organisations:note_create", args=[org.pk])
    form = client.get(url).content.decode()
    assert "They contacted us" in form
    assert "Ruth Key * — key contact of Tom Bennett: ask first, unless they contacted you" in form
    typed = {
        "kind": "call",
        "date": "2026-11-20",
        "contacts": [ruth.pk],
        "text": "Typed words stay",
    }
    response = client.post(url, {**typed, "started_by": "us"})
    body = response.content.decode()
    ask = reverse("organisations:liaison_request_create", args=[org.pk, ruth.pk])
    assert f'href="{ask}">Ask to contact Ruth Key</a>' in body
    assert "Typed words stay" in body
    assert "choose “They contacted us”" in body
    response = client.post(url, {**typed, "started_by": "them"})
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "The note is recorded. Tom Bennett will be told that their key contact got in touch."
    ]


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_emailed_about_inbound_contact(setup, persona, smtp_server, run_worker):
    from mycareer.organisations.models import Note

    helen, org, ruth = persona("manager"), setup["org"], setup["ruth"]
    run_worker()
    before = len(smtp_server.messages())
    note = services.note_create(
        organisation=org,
        by=helen,
        kind=Note.Kind.CALL,
        started_by=Note.StartedBy.THEM,
        text="Ruth rang about the spring fair.",
        contacts=[ruth],
    )
    run_worker()
    [email] = smtp_server.wait_for(before + 1)[before:]
    assert email["To"] == "operator@demo.ac.uk"
    assert email["Reply-To"] == "manager@demo.ac.uk"
    assert (
        email["Subject"] == "[MyCareer] Ruth Key contacted Helen Marsh (Quillfeather Instruments)"
    )
    body = email.get_content()
    assert "Ruth rang about the spring fair." in body
    assert f"/organisations/{org.pk}/#note-{note.pk}" in body


# Agreements in force -----------------------------------------------------------------


def test_an_agreement_shows_wherever_the_contact_appears_for_the_requester(client, setup, persona):
    from django.utils.formats import date_format

    helen, ruth, org = persona("manager"), setup["ruth"], setup["org"]
    [request] = keyaccounts.liaison_request_create(
        requester=helen, contact=ruth, reason="Fair", proposed_engagement="Invite"
    )
    keyaccounts.liaison_request_decide(
        request=request, approve=True, by=setup["tom"], valid_days=30
    )
    request.refresh_from_db()
    until = request.valid_until
    shown = date_format(until, "j M" if until.year == timezone.localdate().year else "j M Y")
    text = f"You may contact Ruth Key until {shown} (agreed by Tom Bennett)"
    client.force_login(helen)
    for url in (
        org.get_absolute_url(),
        ruth.get_absolute_url(),
        reverse("organisations:note_create", args=[org.pk]),
        reverse("organisations:my_activity"),
    ):
        body = client.get(url).content.decode()
        assert text in body, url
    assert (
        "Liaise with them before contacting"
        not in client.get(ruth.get_absolute_url()).content.decode()
    )
    # Nobody else is told they may.
    client.force_login(persona("mailer"))
    assert text not in client.get(org.get_absolute_url()).content.decode()
    assert (
        "You may contact" not in client.get(reverse("organisations:my_activity")).content.decode()
    )


def test_liaison_and_activity_pages_stay_within_a_few_queries(
    client, setup, persona, django_assert_max_num_queries
):
    from mycareer.organisations.models import Note

    tom, helen, org = setup["tom"], persona("manager"), setup["org"]
    people = [
        services.contact_create(
            organisation=org, by=tom, full_name=f"Key {n}", email=f"k{n}@q.co.uk"
        )
        for n in range(8)
    ]
    for person in people:
        link = keyaccounts.key_contact_mark(
            account=setup["account"], contact=person, guidance="", by=tom
        )
        person.refresh_from_db()
        [request] = keyaccounts.liaison_request_create(
            requester=helen, contact=person, reason="r", proposed_engagement="p"
        )
        keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)
        services.note_create(
            organisation=org,
            by=persona("mailer"),
            started_by=Note.StartedBy.THEM,
            text=f"{person.full_name} rang",
            contacts=[person],
        )
        assert link.pk
    client.force_login(tom)
    with django_assert_max_num_queries(20):
        inbox = client.get(reverse("organisations:liaison_inbox")).content.decode()
    assert inbox.count(" rang") == 8
    client.force_login(helen)
    with django_assert_max_num_queries(20):
        activity = client.get(reverse("organisations:my_activity")).content.decode()
    assert activity.count("You may contact Key ") == 8
    # The profile as an operator (with the note form) reads the agreements once, whatever
    # the number of contacts.
    with django_assert_max_num_queries(30):
        profile = client.get(org.get_absolute_url()).content.decode()
    assert profile.count("You may contact Key ") == 8


def test_ending_a_key_account_asks_first_naming_what_goes_with_it(client, setup, persona):
    """Ending a key account releases its contacts and deletes their liaison requests, and
    none of it comes back: one press must not do it."""
    helen, tom, account = persona("manager"), setup["tom"], setup["account"]
    keyaccounts.liaison_request_create(
        requester=helen,
        contact=setup["ruth"],
        reason="A fair for her graduates.",
        proposed_engagement="Invite Ruth to the spring fair.",
    )
    end = reverse("organisations:key_account_remove", args=[setup["org"].pk, account.pk])
    client.force_login(helen)  # an operator, not the owner
    assert client.get(end).status_code == 403
    assert client.post(end, {"confirm": "yes"}).status_code == 403
    client.force_login(tom)
    profile = client.get(setup["org"].get_absolute_url()).content.decode()
    assert f'href="{end}"' in profile
    question = " ".join(client.get(end).content.decode().split())
    assert "End School of Mechanical Engineering's key account with Quillfeather" in question
    assert "stops it protecting 1 key contact" in question
    assert "1 liaison request about these contacts (1 still waiting for an answer)" in question
    assert "Ruth Key * — guidance: <em>Ask Tom first.</em>" in question
    client.post(end)  # no confirmation: nothing happens
    assert keyaccounts.contact_blockers(contact=setup["ruth"], user=helen)
    assert "Whoever is still waiting is told by email that no answer will come." in question
    done = client.post(end, {"confirm": "yes"}, follow=True).content.decode()
    assert "1 colleague whose request was waiting is told by email" in done
    assert keyaccounts.contact_blockers(contact=setup["ruth"], user=helen) == []
    assert not LiaisonRequest.objects.exists()
    assert AuditEntry.objects.filter(action="organisations.key_account.deleted").count() == 1
    # Pressed again (a page left open): nothing more is done, and it says so.
    again = client.post(end, {"confirm": "yes"}, follow=True)
    assert again.status_code == 200
    assert "This key account was already ended: nothing was changed." in again.content.decode()
    with pytest.raises(ValidationError, match="already ended"):
        keyaccounts.key_account_delete(account=account, by=tom)
    assert AuditEntry.objects.filter(action="organisations.key_account.deleted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_ending_a_key_account_tells_whoever_waited_that_no_answer_will_come(
    setup, persona, cast, smtp_server, run_worker
):
    """Their requests go with the key account: without a word they would wait for ever.
    Each is told which contacts are now free to contact and which another key account
    still protects."""
    tom, helen, grace, admin = (
        setup["tom"],
        persona("manager"),
        persona("mailer"),
        persona("admin"),
    )
    ruth, door = setup["ruth"], setup["other"]
    keyaccounts.key_contact_mark(account=setup["account"], contact=door, guidance="", by=tom)
    theirs = keyaccounts.key_account_create(
        organisation=setup["org"], operator=grace, unit=cast["units"]["lubs"], by=admin
    )
    keyaccounts.key_contact_mark(account=theirs, contact=door, guidance="", by=grace)
    for contact in (ruth, door):
        keyaccounts.liaison_request_create(
            requester=helen, contact=contact, reason="Fair", proposed_engagement="Spring fair"
        )
    run_worker()
    before = len(smtp_server.messages())

    keyaccounts.key_account_delete(account=setup["account"], by=admin)
    run_worker()

    [told] = smtp_server.wait_for(before + 1)[before:]
    assert told["To"] == "manager@demo.ac.uk"
    assert told["Reply-To"] == "admin@demo.ac.uk"
    assert told["Subject"] == (
        "[MyCareer] Contacting Open Door and Ruth Key: "
        "the key account at Quillfeather Instruments has ended"
    )
    body = " ".join(told.get_content().split())
    assert "Priya Shah has ended Tom Bennett's key account with Quillfeather Instruments" in body
    assert "no answer will come" in body
    assert "Ruth Key is no longer a key contact: you may contact them without asking" in body
    assert "Open Door is still protected by another key account: ask again" in body
    assert "Your requests to contact Open Door and Ruth Key were still waiting" in body
    assert f"/organisations/{setup['org'].pk}/" in body
    assert keyaccounts.contact_blockers(contact=ruth, user=helen) == []
    assert keyaccounts.contact_blockers(contact=door, user=helen)  # Grace's request waits
    assert LiaisonRequest.objects.filter(key_contact__key_account=theirs).count() == 1
    time.sleep(0.2)
    assert len(smtp_server.messages()) == before + 1  # one email, however many requests


def _colleague(cast):
    """A third trained operator, Sam, to ask alongside Helen and Grace."""
    from mycareer.accounts.models import AccessLevel, TermsVersion
    from mycareer.accounts.tests.factories import StaffFactory

    return StaffFactory(
        email="sam@demo.ac.uk",
        full_name="Sam Hill",
        units=[cast["units"]["eps"]],
        level=AccessLevel.OPERATOR,
        operator_days=10,
        terms=TermsVersion.objects.get(version="2.1"),
    )


def _two_waiting_and_one_agreed(setup, persona, cast) -> None:
    ruth, tom = setup["ruth"], setup["tom"]
    for requester in (persona("manager"), persona("mailer")):
        keyaccounts.liaison_request_create(
            requester=requester, contact=ruth, reason="Fair", proposed_engagement="Spring fair"
        )
    [agreed] = keyaccounts.liaison_request_create(
        requester=_colleague(cast), contact=ruth, reason="Talk", proposed_engagement="A talk"
    )
    keyaccounts.liaison_request_decide(request=agreed, approve=True, by=tom, valid_days=30)


@pytest.mark.django_db(transaction=True)
def test_removing_a_key_contact_tells_whoever_waited_that_no_answer_will_come(
    setup, persona, cast, smtp_server, run_worker, caplog
):
    """The liaison requests about a key contact go with the link: without a word, those
    who asked would wait for ever. The agreed colleague loses nothing and is not told."""
    admin, link = persona("admin"), setup["link"]
    link_id = link.pk
    _two_waiting_and_one_agreed(setup, persona, cast)
    assert keyaccounts.key_contact_unmarking(link=link, by=admin) == (2, 1, 0, 2)
    run_worker()
    before = len(smtp_server.messages())

    with caplog.at_level(logging.INFO, logger="mycareer.organisations"):
        told = keyaccounts.key_contact_unmark(link=link, by=admin)
    run_worker()

    assert told == 2
    emails = smtp_server.wait_for(before + 2)[before:]
    assert sorted(m["To"] for m in emails) == ["mailer@demo.ac.uk", "manager@demo.ac.uk"]
    for email in emails:
        assert email["Reply-To"] == "admin@demo.ac.uk"
        assert email["Subject"] == (
            "[MyCareer] Contacting Ruth Key at Quillfeather Instruments: your request was closed"
        )
        body = " ".join(email.get_content().split())
        assert (
            "Priya Shah has removed Ruth Key from Tom Bennett's key contacts at Quillfeather"
            " Instruments. Your request to contact Ruth Key was still waiting for an answer,"
            " so it was closed: no answer will come." in body
        )
        assert "Ruth Key is no longer a key contact: you may contact them without asking" in body
        assert "key account" not in body.split("no answer will come")[0]  # it did not end
    assert not LiaisonRequest.objects.filter(key_contact__contact=setup["ruth"]).exists()
    [entry] = AuditEntry.objects.filter(action="organisations.key_contact.unmarked")
    assert entry.data == {
        "contact": setup["ruth"].pk,
        "waiting": 2,
        "agreed": 1,
        "waiting_requesters": 2,
    }
    [line] = [r.getMessage() for r in caplog.records if "key_contact.unmarked" in r.getMessage()]
    assert line == (
        f"event=organisations.key_contact.unmarked key_contact={link_id}"
        f" key_account={setup['account'].pk} contact={setup['ruth'].pk} by={admin.pk}"
        " waiting=2 agreed=1 answered=0 told=2"
    )
    time.sleep(0.2)
    assert len(smtp_server.messages()) == before + 2  # not the agreed colleague


def test_ending_a_key_account_writes_one_log_line_of_ids_and_counts(setup, persona, cast, caplog):
    """Removing one key contact wrote a line; ending the whole account, and with it every
    key contact and liaison request, wrote none. Ids and counts only: no names, no emails."""
    admin, account, tom = persona("admin"), setup["account"], setup["tom"]
    account_id = account.pk
    keyaccounts.key_contact_mark(account=account, contact=setup["other"], guidance="", by=tom)
    _two_waiting_and_one_agreed(setup, persona, cast)

    with caplog.at_level(logging.INFO, logger="mycareer.organisations"):
        assert keyaccounts.key_account_delete(account=account, by=admin) == 2

    [line] = [r.getMessage() for r in caplog.records if "key_account.deleted" in r.getMessage()]
    assert line == (
        f"event=organisations.key_account.deleted key_account={account_id}"
        f" organisation={setup['org'].pk} unit={account.unit_id} operator={tom.pk}"
        f" by={admin.pk} key_contacts=2 waiting=2 agreed=1 answered=0 told=2"
    )


def test_removing_a_key_contact_twice_changes_nothing_the_second_time(setup, persona):
    """A second press, or a colleague's at the same moment, finds nothing to remove."""
    link, tom = setup["link"], setup["tom"]
    with pytest.raises(ValidationError, match="Only the key account operator"):
        keyaccounts.key_contact_unmark(link=link, by=persona("manager"))
    assert keyaccounts.key_contact_unmark(link=link, by=tom) == 0
    with pytest.raises(ValidationError) as raised:
        keyaccounts.key_contact_unmark(link=link, by=tom)
    assert raised.value.messages == [
        "Ruth Key is already no longer a key contact: nothing was changed."
    ]
    assert AuditEntry.objects.filter(action="organisations.key_contact.unmarked").count() == 1


def test_no_longer_a_key_contact_asks_first_with_the_numbers(client, setup, persona, cast):
    """One press deleted the waiting and agreed liaison requests about the contact without
    a word; now a page says how many close and who is told, and only a confirmed POST acts.
    A second press, or a page left open, says there is nothing left to remove."""
    org, ruth, tom, link = setup["org"], setup["ruth"], setup["tom"], setup["link"]
    _two_waiting_and_one_agreed(setup, persona, cast)
    settings_page = reverse("organisations:key_contact_mark", args=[org.pk, ruth.pk])
    remove = reverse("organisations:key_contact_unmark", args=[org.pk, ruth.pk])

    client.force_login(persona("manager"))  # an operator without a key account here
    assert client.get(remove).status_code == 404
    assert client.post(remove, {"confirm": "yes"}).status_code == 404
    client.force_login(persona("student"))
    assert client.get(remove).status_code == 403
    client.force_login(tom)
    form = client.get(settings_page).content.decode()
    assert f'href="{remove}"' in form
    assert 'name="do" value="unmark"' not in form  # no longer a button that acts at once

    question = " ".join(client.get(remove).content.decode().split())
    assert "<h1>Stop protecting Ruth Key as a key contact?</h1>" in question
    assert (
        "2 liaison requests waiting for an answer and 1 agreed will be closed; 2 colleagues"
        " still waiting will be told by email that no answer will come." in question
    )
    assert "Colleagues may then contact Ruth Key without asking first." in question
    assert "The guidance is not kept: <em>Ask Tom first.</em>" in question
    assert "Yes, stop protecting Ruth Key and close 3 liaison requests</button>" in question
    assert f'href="{settings_page}">Keep Ruth Key as a key contact</a>' in question

    assert client.post(remove).status_code == 200  # no confirmation: nothing happens
    # The old button, on a page left open, asks first too instead of acting.
    stale = client.post(settings_page, {"do": "unmark"})
    assert stale.status_code == 302 and stale["Location"] == remove
    assert keyaccounts.key_contact_unmarking(link=link, by=tom) == (2, 1, 0, 2)
    assert ruth.key_links.get().guidance == "Ask Tom first."

    done = client.post(remove, {"confirm": "yes"}, follow=True)
    assert done.redirect_chain == [(ruth.get_absolute_url(), 302)]
    assert (
        "Ruth Key is no longer a key contact. 2 colleagues whose request was waiting are told"
        " by email that no answer will come." in done.content.decode()
    )
    assert not ruth.key_links.exists()
    assert not LiaisonRequest.objects.filter(requester__in=[persona("manager")]).exists()

    again = client.post(remove, {"confirm": "yes"}, follow=True)
    assert again.status_code == 200
    assert "Ruth Key is already no longer a key contact: nothing was changed." in (
        again.content.decode()
    )
    assert AuditEntry.objects.filter(action="organisations.key_contact.unmarked").count() == 1


def test_an_administrator_reaches_the_key_contact_of_whichever_account_protects_it(
    client, setup, persona, cast
):
    """With two key accounts at one organisation, the key-contact pages took the first by
    unit name: an administrator removing Tom's key contact was told it was none."""
    org, ruth, admin = setup["org"], setup["ruth"], persona("admin")
    keyaccounts.key_account_create(
        organisation=org, operator=persona("manager"), unit=cast["units"]["lubs"], by=admin
    )  # "Business School" comes before Tom's "School of Mechanical Engineering"
    client.force_login(admin)
    remove = reverse("organisations:key_contact_unmark", args=[org.pk, ruth.pk])
    question = " ".join(client.get(remove).content.decode().split())
    assert "<h1>Stop protecting Ruth Key as a key contact?</h1>" in question
    client.post(remove, {"confirm": "yes"})
    assert not KeyContact.objects.filter(contact=ruth).exists()


def test_the_notes_written_for_earlier_answers_go_and_the_last_engagement_with_them(setup, persona):
    """Migration 0018: the notes an answer wrote until now, and only those, go."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "mycareer.organisations.migrations.0018_liaison_answers_are_not_notes"
    )
    org, tom = setup["org"], setup["tom"]
    met = timezone.localdate() - datetime.timedelta(days=40)
    services.note_create(organisation=org, by=tom, text="Liaison: the fair went well", date=met)
    Note.objects.create(
        organisation=org,
        author=tom,
        kind=Note.Kind.OTHER,
        text="Liaison: Helen asked to contact Ruth Key (fair). Tom declined.",
    )
    org.refresh_last_engaged()
    assert org.last_engaged_on == timezone.localdate()
    migration.forwards(apps, None)
    org.refresh_from_db()
    assert list(org.notes.values_list("text", flat=True)) == ["Liaison: the fair went well"]
    assert org.last_engaged_on == met


def test_a_reason_of_a_few_sentences_is_asked_for_not_a_book(setup, persona, client):
    helen, ruth = persona("manager"), setup["ruth"]
    client.force_login(helen)
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    page = client.post(url, {"reason": "Y" * 2001, "proposed_engagement": "Spring panel"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Keep it to 2,000 characters: it has 2,001." in text and "Spring panel" in text
    assert not LiaisonRequest.objects.filter(requester=helen).exists()


# Declining says why ------------------------------------------------------------------------


def test_declining_needs_a_reason_and_saves_nothing_without_one(setup, persona):
    helen, tom = persona("manager"), setup["tom"]
    [request] = keyaccounts.liaison_request_create(
        requester=helen, contact=setup["ruth"], reason="Fair", proposed_engagement="Invite"
    )
    for comment in ("", "   \n "):
        with pytest.raises(ValidationError) as raised:
            keyaccounts.liaison_request_decide(
                request=request, approve=False, by=tom, comment=comment
            )
        assert raised.value.message_dict == {"comment": [keyaccounts.DECLINE_NEEDS_A_REASON]}
    request.refresh_from_db()
    assert request.status == LiaisonRequest.Status.PENDING
    # Agreeing needs none.
    keyaccounts.liaison_request_decide(request=request, approve=True, by=tom)


def test_the_decline_form_keeps_what_was_typed_and_the_reason_reaches_the_requester(
    client, setup, persona, mailoutbox
):
    from mycareer.organisations.tasks import send_liaison_decision_email

    helen, tom = persona("manager"), setup["tom"]
    [request] = keyaccounts.liaison_request_create(
        requester=helen, contact=setup["ruth"], reason="Fair", proposed_engagement="Invite"
    )
    url = reverse("organisations:liaison_request", args=[request.pk])
    client.force_login(tom)
    page = client.post(url, {"decision": "decline", "valid_days": "45", "comment": " "})
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert keyaccounts.DECLINE_NEEDS_A_REASON in body
    assert 'value="45"' in body  # what was typed is kept, the answer too
    assert "checked" in re.search(r'<input[^>]*value="decline"[^>]*>', body).group(0)
    request.refresh_from_db()
    assert request.status == LiaisonRequest.Status.PENDING

    reason = "Ruth is on leave until June: ask me again then."
    response = client.post(url, {"decision": "decline", "valid_days": "90", "comment": reason})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.comment) == (LiaisonRequest.Status.DECLINED, reason)
    client.force_login(helen)
    shown = html.unescape(client.get(url).content.decode())
    assert "Reason for declining" in shown and reason in shown
    inbox = html.unescape(client.get(reverse("organisations:liaison_inbox")).content.decode())
    assert reason in inbox
    send_liaison_decision_email.call(request.pk)
    [email] = [m for m in mailoutbox if helen.email in m.to]
    assert f"Their reason: {reason}" in email.body
    # Its link opens the request, where the answer is, for the colleague who asked.
    [link] = re.findall(
        r"Your request and the answer: \S+?(/organisations/liaison/\d+/)", email.body
    )
    assert link == url and reason in html.unescape(client.get(link).content.decode())


def test_an_answer_is_not_said_to_be_recorded_in_the_notes(client, setup, persona, mailoutbox):
    """An answer writes no note (it is no engagement with the employer), yet the owner was
    told "recorded in the notes" on answering, and in the email asking them; the page that
    stops protecting a contact said the answers of the requests it deletes stay there."""
    from mycareer.organisations.tasks import send_liaison_request_email

    helen, tom = persona("manager"), setup["tom"]
    [request] = keyaccounts.liaison_request_create(
        requester=helen, contact=setup["ruth"], reason="Fair", proposed_engagement="Invite"
    )
    send_liaison_request_email.call(request.pk)
    [asking] = [m for m in mailoutbox if tom.email in m.to]
    assert "notes" not in asking.body
    assert "Helen is emailed your answer and reads it on the request's page." in asking.body
    assert "decline and say why" in asking.body

    client.force_login(tom)
    url = reverse("organisations:liaison_request", args=[request.pk])
    answered = client.post(
        url, {"decision": "decline", "valid_days": "90", "comment": "Not this term."}, follow=True
    )
    said = html.unescape(answered.content.decode())
    assert "recorded in the notes" not in said
    assert "Your answer was sent to Helen Marsh, who also reads it on the request's page." in said
    assert not Note.objects.filter(organisation=setup["org"]).exists()

    remove = reverse("organisations:key_contact_unmark", args=[setup["org"].pk, setup["ruth"].pk])
    question = " ".join(html.unescape(client.get(remove).content.decode()).split())
    assert (
        "1 earlier request, declined or withdrawn, is deleted too, with the answers given: "
        "only the audit trail keeps them." in question
    )
    assert "organisation's notes" not in question


def test_the_request_still_waiting_is_the_one_asking_again_would_only_repeat(setup, persona, cast):
    helen, tom, ruth = persona("manager"), setup["tom"], setup["ruth"]
    assert keyaccounts.liaison_waiting(requester=helen, contact=ruth) is None
    [request] = keyaccounts.liaison_request_create(
        requester=helen, contact=ruth, reason="Fair", proposed_engagement="Invite"
    )
    assert keyaccounts.liaison_waiting(requester=helen, contact=ruth) == request
    assert keyaccounts.liaison_waiting(requester=helen, contact=setup["other"]) is None
    # The same answer for many at once (a campaign's left-out list).
    many = keyaccounts.liaisons_waiting(requester=helen, contacts=[ruth, setup["other"]])
    assert many == {ruth.pk: request}
    with pytest.raises(ValidationError) as refused:
        keyaccounts.liaison_request_create(
            requester=helen, contact=ruth, reason="Again", proposed_engagement="Again"
        )
    assert refused.value.messages == [keyaccounts.already_asked(request)]
    # A second owner not yet asked: asking again sends them a request, so nothing waits.
    admin = persona("admin")
    second = keyaccounts.key_account_create(
        organisation=setup["org"], operator=admin, unit=cast["units"]["lubs"], by=admin
    )
    keyaccounts.key_contact_mark(account=second, contact=ruth, guidance="", by=admin)
    ruth = type(ruth).objects.get(pk=ruth.pk)
    assert keyaccounts.liaison_waiting(requester=helen, contact=ruth) is None
    assert keyaccounts.liaisons_waiting(requester=helen, contacts=[ruth]) == {}
    # Answered, it no longer waits.
    keyaccounts.liaison_request_decide(request=request, approve=False, by=tom, comment="No")
    assert keyaccounts.liaison_waiting(requester=helen, contact=ruth) is None


# Where asking leads back to -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_", "lands_on"),
    [
        ("/mailing/", "/mailing/"),
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_asking_to_contact_returns_only_to_a_page_of_this_site(
    client, setup, persona, next_, lands_on
):
    ruth = setup["ruth"]
    client.force_login(persona("manager"))
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    asked = f"{url}?{urlencode({'next': next_})}"
    form = html.unescape(client.get(asked).content.decode())
    back = lands_on or ruth.get_absolute_url()
    assert f'href="{back}">Cancel' in form and "evil.example" not in form
    response = client.post(asked, {"reason": "Fair", "proposed_engagement": "Invite"})
    assert response.status_code == 302
    assert response["Location"] == back


def test_the_same_guidance_saved_again_records_nothing(client, setup):
    url = reverse("organisations:key_contact_mark", args=[setup["org"].pk, setup["ruth"].pk])
    changed = AuditEntry.objects.filter(action="organisations.key_contact.changed")
    client.force_login(setup["tom"])
    response = client.post(url, {"guidance": "Ask Tom first."}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    assert not changed.exists()
    response = client.post(url, {"guidance": "Ask Tom first.\r\nHe answers on Mondays."})
    assert response.status_code == 302
    guidance = KeyContact.objects.get(pk=setup["link"].pk).guidance
    assert guidance == "Ask Tom first.\nHe answers on Mondays."
    assert changed.count() == 1


def test_the_liaison_pages_show_the_key_contact_with_its_star(client, setup, persona):
    """The inbox names key contacts as every other page does: "Ruth Key *"."""
    helen, tom = persona("manager"), setup["tom"]
    [request] = keyaccounts.liaison_request_create(
        requester=helen, contact=setup["ruth"], reason="Fair", proposed_engagement="Invite"
    )
    client.force_login(tom)
    inbox = html.unescape(client.get(reverse("organisations:liaison_inbox")).content.decode())
    assert "asks to contact Ruth Key *</a>" in inbox
    detail = client.get(reverse("organisations:liaison_request", args=[request.pk]))
    assert "asks to contact Ruth Key *</h1>" in html.unescape(detail.content.decode())
    client.force_login(helen)
    mine = html.unescape(client.get(reverse("organisations:liaison_inbox")).content.decode())
    assert "Ruth Key * at Quillfeather Instruments</a>" in mine


def test_the_liaison_request_form_shows_the_key_contact_with_its_star(client, setup, persona):
    """The form asking to contact a key contact named them bare ("Ask to contact Ruth
    Key"), unlike the inbox and the request they become."""
    client.force_login(persona("manager"))
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, setup["ruth"].pk])
    page = html.unescape(client.get(url).content.decode())
    assert "<title>Ask to contact Ruth Key *" in page
    assert "<h1>Ask to contact Ruth Key *</h1>" in page
    assert "Ruth Key * is a key contact of Tom Bennett" in page
    assert "Ruth Key</a>" not in page and "Ruth Key *</a>" in page


# An owner who has left ----------------------------------------------------------------


def _leaves(person) -> None:
    person.is_active = False
    person.save(update_fields=["is_active"])


@pytest.fixture
def two_owners(setup, persona, cast):
    """Ruth is a key contact of Tom's key account and of Helen's, for another unit."""
    helen = persona("manager")
    account = keyaccounts.key_account_create(
        organisation=setup["org"], operator=helen, unit=cast["units"]["eps"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(account=account, contact=setup["ruth"], guidance="", by=helen)
    return helen


def test_no_request_goes_to_an_owner_who_has_left_and_the_requester_is_told_why(
    setup, persona, django_capture_on_commit_callbacks, caplog
):
    """A key account operator who had left still protected Ruth, and a request to them
    was said to be sent though nobody would ever read or answer it."""
    ruth, tom = setup["ruth"], setup["tom"]
    _leaves(tom)
    ruth.refresh_from_db()
    mailer = persona("mailer")
    with (
        django_capture_on_commit_callbacks() as callbacks,
        caplog.at_level(logging.INFO, logger="mycareer.organisations"),
        pytest.raises(ValidationError) as raised,
    ):
        keyaccounts.liaison_request_create(
            requester=mailer, contact=ruth, reason="Fair", proposed_engagement="Invite"
        )
    assert " ".join(raised.value.messages) == (
        "Tom Bennett, who holds the key account with Quillfeather Instruments, has left: ask an "
        "administrator to pass the key account to someone else (they can do it from the "
        "organisation's page), then ask them."
    )
    assert not LiaisonRequest.objects.filter(key_contact__contact=ruth).exists()
    assert callbacks == []  # no email
    [line] = [r.getMessage() for r in caplog.records if "liaison.refused" in r.getMessage()]
    assert "owners_left" in line
    # The protection stays: the relationship is the unit's, not the person's.
    assert keyaccounts.contact_blockers(contact=ruth, user=mailer) == [setup["link"]]


def test_when_one_of_two_owners_has_left_only_the_other_is_asked(
    setup, persona, two_owners, django_capture_on_commit_callbacks
):
    _leaves(setup["tom"])
    with django_capture_on_commit_callbacks() as callbacks:
        [request] = keyaccounts.liaison_request_create(
            requester=persona("mailer"), contact=setup["ruth"], reason="r", proposed_engagement="p"
        )
    assert request.key_contact.key_account.operator == two_owners
    assert len(callbacks) == 1


def test_owners_still_here_are_all_asked_as_before(
    setup, persona, two_owners, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        requests = keyaccounts.liaison_request_create(
            requester=persona("mailer"), contact=setup["ruth"], reason="r", proposed_engagement="p"
        )
    assert {r.key_contact.key_account.operator for r in requests} == {setup["tom"], two_owners}
    assert len(callbacks) == 2


def test_the_request_page_says_an_owner_has_left_before_anything_is_typed(client, setup, persona):
    ruth = setup["ruth"]
    _leaves(setup["tom"])
    client.force_login(persona("mailer"))
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    page = html.unescape(client.get(url).content.decode())
    assert "Tom Bennett, who holds the key account with Quillfeather Instruments, has left" in page
    assert "Send the request" not in page
    contact_page = html.unescape(client.get(ruth.get_absolute_url()).content.decode())
    assert "liaise with Tom Bennett (who has left: an administrator can pass" in contact_page
    # Sent all the same (from a page opened before they left): refused, nothing lost.
    page = html.unescape(
        client.post(url, {"reason": "Fair", "proposed_engagement": "Spring panel"}).content.decode()
    )
    assert "has left: ask an administrator" in page and "Spring panel" in page
    assert not LiaisonRequest.objects.exists()


def test_a_key_contact_whose_owner_left_is_not_said_to_need_liaising_with_them(
    client, setup, persona
):
    """Beside the name, on the organisation's page and the contact's: a closed login is
    neither offered to write to nor to liaise with."""
    ruth, tom = setup["ruth"], setup["tom"]
    _leaves(tom)
    client.force_login(persona("mailer"))
    for url in (setup["org"].get_absolute_url(), ruth.get_absolute_url()):
        page = html.unescape(client.get(url).content.decode())
        [note] = re.findall(r'<span class="key-contact-note">.*?</span>', page, re.S)
        assert "key contact of Tom Bennett (who has left, " in note
        assert f"mailto:{tom.email}" not in note
        assert "Liaise with them before contacting" not in note
        assert (
            "Tom Bennett has left: an administrator can pass the key account to someone else, "
            "to ask before contacting."
        ) in note


def test_the_request_page_and_confirmation_name_only_the_owners_asked(
    client, setup, persona, two_owners
):
    ruth = setup["ruth"]
    _leaves(setup["tom"])
    client.force_login(persona("mailer"))
    url = reverse("organisations:liaison_request_create", args=[setup["org"].pk, ruth.pk])
    page = html.unescape(client.get(url).content.decode())
    left = (
        "Tom Bennett also holds a key account with Quillfeather Instruments but has left, "
        "so cannot answer and has not been asked."
    )
    assert left in page and "Send the request" in page
    assert "is a key contact of Helen Marsh (" in page
    response = client.post(url, {"reason": "Fair", "proposed_engagement": "Invite"}, follow=True)
    text = html.unescape(response.content.decode())
    assert (
        "Your request was sent to Helen Marsh. You will get an email with the answer. " + left
    ) in text


def test_a_key_account_held_by_someone_who_left_is_marked_for_administrators(
    client, setup, persona
):
    _leaves(setup["tom"])
    client.force_login(persona("admin"))
    page = html.unescape(client.get(setup["org"].get_absolute_url()).content.decode())
    [card] = _staff_cards(page)
    assert card.startswith("TB Tom Bennett") and "has left" in card
    reassign = reverse(
        "organisations:key_account_reassign", args=[setup["org"].pk, setup["account"].pk]
    )
    assert reassign in page


def _staff_cards(page: str) -> list[str]:
    """The text of each staff card on a page, tags stripped."""
    cards = re.findall(r'<div class="staff-card">(.*?)</div>\s*</div>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", card).split()) for card in cards]


def test_the_card_of_a_key_account_operator_who_has_left_offers_no_way_to_reach_them(
    client, setup, persona
):
    """Marked "has left" beside it, the card still gave their email, phone and "Email me
    first…": an invitation to write to an inbox nobody reads."""
    tom = setup["tom"]
    tom.phone, tom.about = "0113 343 2101", "Email me first; best reached on Tuesdays."
    tom.save(update_fields=["phone", "about"])
    [liaison] = keyaccounts.liaison_request_create(
        requester=persona("mailer"), contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    pages = (
        setup["org"].get_absolute_url(),
        setup["ruth"].get_absolute_url(),
        reverse("organisations:liaison_request", args=[liaison.pk]),
    )
    client.force_login(persona("admin"))
    for url in pages:
        [card] = [c for c in _staff_cards(client.get(url).content.decode()) if "Tom" in c]
        assert tom.email in card and "Email me first" in card and "has left" not in card
    _leaves(tom)
    for url in pages:
        page = html.unescape(client.get(url).content.decode())
        [card] = [c for c in _staff_cards(page) if "Tom" in c]
        assert card.startswith("TB Tom Bennett") and "has left" in card, url
        assert tom.email not in card and "0113" not in card and "Email me first" not in card
        assert keyaccounts.OPERATOR_LEFT in card
        assert f"mailto:{tom.email}" not in page and "tel:" not in page


def test_an_answered_request_does_not_say_nobody_can_answer_it_when_its_operator_left(
    client, setup, persona
):
    """Tom agreed, then left: the request's page said "until then nobody can answer a
    request to contact its key contacts", though this one was answered."""
    tom = setup["tom"]
    [liaison] = keyaccounts.liaison_request_create(
        requester=persona("mailer"), contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    keyaccounts.liaison_request_decide(request=liaison, approve=True, by=tom)
    _leaves(tom)
    client.force_login(persona("admin"))
    page = html.unescape(
        client.get(reverse("organisations:liaison_request", args=[liaison.pk])).content.decode()
    )
    [card] = [c for c in _staff_cards(page) if "Tom" in c]
    assert "has left" in card and keyaccounts.OPERATOR_LEFT_NOTHING_WAITS in card
    assert "nobody can answer" not in page
    # Where a request may still wait on them, the card says nobody can answer it.
    organisation = client.get(setup["org"].get_absolute_url()).content.decode()
    assert keyaccounts.OPERATOR_LEFT in html.unescape(organisation)


def test_a_request_waiting_on_someone_who_has_left_is_marked_in_the_requesters_list(
    client, setup, persona
):
    mailer = persona("mailer")
    keyaccounts.liaison_request_create(
        requester=mailer, contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    client.force_login(mailer)
    inbox = reverse("organisations:liaison_inbox")
    assert "has left" not in client.get(inbox).content.decode()
    _leaves(setup["tom"])
    page = html.unescape(client.get(inbox).content.decode())
    assert "waiting on someone who has left" in page


def test_the_page_of_a_request_waiting_on_someone_who_has_left_says_so_and_what_to_do(
    client, setup, persona
):
    """The list marked a request waiting on a leaver; its own page did not."""
    mailer, admin = persona("mailer"), persona("admin")
    [liaison] = keyaccounts.liaison_request_create(
        requester=mailer, contact=setup["ruth"], reason="r", proposed_engagement="p"
    )
    url = reverse("organisations:liaison_request", args=[liaison.pk])
    client.force_login(mailer)
    assert "has left" not in client.get(url).content.decode()
    _leaves(setup["tom"])

    page = re.sub(r"<[^>]+>", "", html.unescape(client.get(url).content.decode()))
    assert "Waiting on someone who has left: Tom Bennett cannot answer." in page
    assert "Ask an administrator to pass the key account to someone else" in page
    assert "held by Tom Bennett (who has left)" in page

    client.force_login(admin)
    page = html.unescape(client.get(url).content.decode())
    assert "Waiting on someone who has left" in page
    reassign = reverse(
        "organisations:key_account_reassign", args=[setup["org"].pk, setup["account"].pk]
    )
    assert reassign in page and "Send the answer" in page

    # Answered, it waits on nobody.
    keyaccounts.liaison_request_decide(
        request=liaison, approve=True, by=admin, comment="", valid_days=30
    )
    assert "Waiting on someone who has left" not in client.get(url).content.decode()


def _run_queued(task_path: str, mailoutbox) -> int:
    """Run the tasks queued at `task_path` as the worker would; the emails they send."""
    from django.utils.module_loading import import_string
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path=task_path)
    task = import_string(task_path)
    for result in queued:
        task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
    return queued.count()


PASSED_ON = "mycareer.organisations.tasks.send_liaison_requests_passed_on_email"


def test_the_new_operator_is_emailed_the_requests_waiting_on_the_key_account_passed_on(
    client, setup, persona, mailoutbox, django_capture_on_commit_callbacks
):
    """Pending requests moved with a key account passed on from a leaver, but nobody
    told the new operator a colleague waited for their answer."""
    mailer, helen, admin = persona("mailer"), persona("manager"), persona("admin")
    [waiting] = keyaccounts.liaison_request_create(
        requester=mailer, contact=setup["ruth"], reason="Fair", proposed_engagement="Spring panel"
    )
    _leaves(setup["tom"])
    mailoutbox.clear()
    client.force_login(admin)
    url = reverse("organisations:key_account_reassign", args=[setup["org"].pk, setup["account"].pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"operator": helen.pk})
    assert _run_queued(PASSED_ON, mailoutbox) == 1

    [email] = mailoutbox
    assert email.to == [helen.email]
    assert "The key account with Quillfeather Instruments is yours" in email.subject
    assert "1 request to contact its key contacts waits for your answer" in email.subject
    body = " ".join(email.body.split())
    assert "which Tom Bennett held until they left" in body
    assert "Grace Okafor (mailer@demo.ac.uk) would like to contact Ruth Key" in body
    assert "Spring panel" in body
    # Its links open for the new operator, who may answer there.
    [link] = re.findall(r"here: \S+?(/organisations/liaison/\d+/)", email.body)
    assert link == reverse("organisations:liaison_request", args=[waiting.pk])
    client.force_login(helen)
    page = client.get(link)
    assert page.status_code == 200 and "Send the answer" in page.content.decode()
    for other in re.findall(r"https?://\S+?(/\S*)$", email.body, flags=re.MULTILINE):
        assert client.get(other).status_code == 200, other


def test_passing_on_a_key_account_with_nothing_waiting_emails_nobody(
    setup, persona, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        keyaccounts.key_account_reassign(
            account=setup["account"], operator=persona("manager"), by=persona("admin")
        )
    assert callbacks == []


def test_a_key_account_is_not_passed_to_someone_who_has_left(setup, persona, client):
    helen, admin, account = persona("manager"), persona("admin"), setup["account"]
    _leaves(helen)
    with pytest.raises(ValidationError) as raised:
        keyaccounts.key_account_reassign(account=account, operator=helen, by=admin)
    assert raised.value.messages == [
        "Helen Marsh has left (their login is closed), so cannot hold a key account: "
        "choose someone who is still here."
    ]
    account.refresh_from_db()
    assert account.operator == setup["tom"]

    client.force_login(admin)
    url = reverse("organisations:key_account_reassign", args=[setup["org"].pk, account.pk])
    page = client.get(url).content.decode()
    assert f'value="{helen.pk}"' not in page  # not offered
    assert f'value="{persona("mailer").pk}"' in page
    # Posted all the same (by hand, or from a page opened before she left): said why.
    page = html.unescape(client.post(url, {"operator": helen.pk}).content.decode())
    assert "Helen Marsh has left (their login is closed)" in page
    account.refresh_from_db()
    assert account.operator == setup["tom"]
    assert not AuditEntry.objects.filter(action="organisations.key_account.reassigned").exists()


def test_a_key_account_is_passed_only_to_someone_who_may_hold_one(setup, persona):
    """Passed to a viewer, its waiting requests went to someone who could not open them."""
    with pytest.raises(ValidationError) as raised:
        keyaccounts.key_account_reassign(
            account=setup["account"], operator=persona("viewer"), by=persona("admin")
        )
    assert "cannot edit records, so cannot hold a key account" in raised.value.messages[0]
    setup["account"].refresh_from_db()
    assert setup["account"].operator == setup["tom"]


def test_a_leaver_holding_two_key_accounts_with_one_organisation_is_named_once():
    from types import SimpleNamespace

    from mycareer.organisations.keyaccounts import owners_left_message, owners_left_note

    link = SimpleNamespace(key_account=SimpleNamespace(operator="Tom Bennett"))
    contact = SimpleNamespace(organisation="Quillfeather Instruments")
    said = owners_left_message(contact, [link, link])
    assert said.startswith("Tom Bennett, who holds the key account with Quillfeather")
    assert "Tom Bennett and Tom Bennett" not in said
    assert owners_left_note(contact, [link, link]).startswith("Tom Bennett also holds a key")


def test_the_passed_on_email_is_skipped_for_a_key_account_ended_before_it_ran(caplog):
    """It read the account with `get`: ended meanwhile, the task failed and raised an
    alert to administrators about nothing."""
    from mycareer.organisations.tasks import send_liaison_requests_passed_on_email

    with caplog.at_level("INFO", logger="mycareer.organisations.tasks"):
        sent = send_liaison_requests_passed_on_email.call(999999, 999999, [1], 1, 1, "x")
    assert sent == 0
    assert [r for r in caplog.records if "reason=account_gone" in r.getMessage()]


def test_the_refusal_naming_a_key_contact_gives_no_address_of_an_owner_who_left(
    setup, persona, two_owners
):
    """A note or an employer report refused for a key contact told people to write to
    the owners at their addresses, a leaver's among them, which nobody reads."""
    ruth, tom, helen = setup["ruth"], setup["tom"], persona("manager")
    mailer = persona("mailer")

    def refusal() -> str:
        contact = Contact.objects.get(pk=ruth.pk)
        return keyaccounts.blocker_message(
            contact, keyaccounts.contact_blockers(contact=contact, user=mailer)
        )

    assert tom.email in refusal()
    _leaves(tom)
    both = refusal()
    assert "Tom Bennett (has left)" in both and tom.email not in both
    assert f"Helen Marsh ({helen.email})" in both and "Ask Helen Marsh to liaise" in both
    # Tom, named among the owners, is not among those to ask, and the message says so.
    assert (
        "Tom Bennett also holds a key account with Quillfeather Instruments but has left, so "
        "cannot answer and will not be asked." in both
    )
    _leaves(helen)
    alone = refusal()
    assert "Ask them to liaise" not in alone and "@" not in alone
    assert "ask an administrator to pass the key accounts to someone else" in alone


def test_a_key_account_cannot_be_added_to_a_record_merged_away(setup, persona, client, cast):
    """It was added to the archived stub: the survivor showed no key account, so its
    contacts were unprotected, and the stub's page opened the survivor."""
    from mycareer.organisations.models import KeyAccount

    admin, tom = persona("admin"), setup["tom"]
    survivor = make_organisation("Quillfeather Instruments Group")
    away = services.organisation_create(by=tom, name="Quill Instruments", confirm_duplicates=True)
    services.organisation_merge(survivor=survivor, other=away, keep={}, by=admin)
    with pytest.raises(ValidationError, match="was merged into Quillfeather Instruments Group"):
        keyaccounts.key_account_create(
            organisation=away, operator=tom, unit=cast["units"]["mech"], by=tom
        )
    assert not KeyAccount.with_released.filter(organisation=away).exists()
    # An old link to its form opens the survivor's.
    client.force_login(tom)
    response = client.get(reverse("organisations:key_account_add", args=[away.pk]))
    assert response.status_code == 302
    assert response.url == reverse("organisations:key_account_add", args=[survivor.pk])


def test_deleting_a_key_contact_says_whose_protection_and_which_requests_end(
    setup, persona, client
):
    """The page said only that notes are kept: the key contact's protection, and every
    request to liaise about them, agreed or waiting, went with them unmentioned."""
    ruth, other = setup["ruth"], setup["other"]
    asker = persona("manager")
    keyaccounts.liaison_request_create(
        contact=ruth, requester=asker, reason="Panel", proposed_engagement="Talk"
    )
    client.force_login(asker)
    url = reverse("organisations:contact_delete", args=[ruth.organisation_id, ruth.pk])
    said = (
        "Ruth Key is a key contact of Tom Bennett: deleting them ends that protection and "
        "deletes 1 request to liaise about them."
    )
    assert said in html.unescape(client.get(url).content.decode())
    plain = reverse("organisations:contact_delete", args=[other.organisation_id, other.pk])
    assert "key contact of" not in client.get(plain).content.decode()
    assert client.post(url, {"confirm": "on"}).status_code == 302
    entry = AuditEntry.objects.get(action="organisations.contact.deleted")
    assert entry.data["ended"] == said


def test_a_refused_note_says_only_owners_still_here_will_be_told_of_inbound_contact(
    setup, persona, two_owners
):
    """It said "…and Tom Bennett and Helen Marsh will be told" after Tom had left: he is
    emailed nothing."""
    ruth, tom, helen = setup["ruth"], setup["tom"], two_owners
    contact = Contact.objects.get(pk=ruth.pk)
    blockers = keyaccounts.contact_blockers(contact=contact, user=persona("mailer"))
    _leaves(tom)
    for link in blockers:
        link.key_account.operator.refresh_from_db()
    said = keyaccounts._note_refusal(contact, blockers)
    assert said.endswith("you may record it, and Helen Marsh will be told.")
    _leaves(helen)
    for link in blockers:
        link.key_account.operator.refresh_from_db()
    said = keyaccounts._note_refusal(contact, blockers)
    assert said.endswith("you may record it.") and "will be told" not in said


def test_a_recorded_inbound_note_does_not_say_an_owner_who_left_will_be_told(
    client, setup, persona, two_owners
):
    org, ruth = setup["org"], setup["ruth"]
    _leaves(setup["tom"])
    client.force_login(persona("mailer"))
    url = reverse("organisations:note_create", args=[org.pk])
    typed = {"kind": "call", "date": "2026-11-20", "contacts": [ruth.pk], "text": "She rang"}
    response = client.post(url, {**typed, "started_by": "them"})
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "The note is recorded. Helen Marsh will be told that their key contact got in touch."
    ]


def test_a_multi_touch_page_opened_before_a_merge_changes_nothing_on_the_record_merged_away(
    setup, persona, client
):
    """It marked the archived stub and said its contacts were released, while the
    survivor's, the stub's among them, stayed protected."""
    admin, org = persona("admin"), setup["org"]
    url = reverse("organisations:multi_touch", args=[org.pk])
    client.force_login(admin)
    assert client.get(url).status_code == 200  # the page is open
    survivor = make_organisation("Quillfeather Instruments Group")
    services.organisation_merge(survivor=survivor, other=org, keep={}, by=admin)
    with pytest.raises(ValidationError, match="was merged into Quillfeather Instruments Group"):
        keyaccounts.organisation_set_multi_touch(organisation=org, multi_touch=True, by=admin)
    response = client.post(url, {"multi_touch": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == survivor.get_absolute_url()
    assert "was merged into Quillfeather Instruments Group" in html.unescape(
        response.content.decode()
    )
    org.refresh_from_db()
    survivor.refresh_from_db()
    assert not org.multi_touch and not survivor.multi_touch
    assert not AuditEntry.objects.filter(action="organisations.organisation.multi_touch").exists()
