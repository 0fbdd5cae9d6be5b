"""Key accounts: protected contacts, the liaison step, multi-touch organisations."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mycareer.audit.models import AuditEntry
from mycareer.organisations import keyaccounts, services
from mycareer.organisations.models import LiaisonRequest, Note

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
    decisions = Note.objects.filter(organisation=setup["org"], text__startswith="Liaison:")
    assert decisions.count() == 2
    assert any("declined" in n.text and "Not this year" in n.text for n in decisions)


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
    removed = keyaccounts.organisation_set_multi_touch(organisation=org, multi_touch=True, by=admin)
    assert removed == 1
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
    request = LiaisonRequest.objects.get(requester=persona("manager"))
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


@pytest.mark.django_db(transaction=True)
def test_request_and_answer_emails_are_really_sent(persona, cast, smtp_server, run_worker):
    tom, helen = persona("operator"), persona("manager")
    org = services.organisation_create(
        by=tom, name="Quillfeather Instruments", confirm_duplicates=True
    )
    ruth = services.contact_create(
        organisation=org, by=tom, full_name="Ruth Key", email="ruth@quill.co.uk"
    )
    account = keyaccounts.key_account_create(
        organisation=org, operator=tom, unit=cast["units"]["mech"], by=persona("admin")
    )
    keyaccounts.key_contact_mark(account=account, contact=ruth, guidance="", by=tom)
    ruth.refresh_from_db()
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


def test_demo_story_has_key_accounts_multi_touch_and_a_pending_request(cast):
    from mycareer.organisations.models import KeyContact, Organisation

    assert KeyContact.objects.count() >= 3
    assert Organisation.objects.filter(multi_touch=True).count() == 5
    assert LiaisonRequest.objects.filter(status=LiaisonRequest.Status.PENDING).exists()


def test_search_by_key_account_yes_no_mine_and_multi_touch(client, setup, persona):
    from mycareer.organisations.search import OrganisationQuery, search_organisations

    org, tom = setup["org"], setup["tom"]
    has = set(search_organisations(OrganisationQuery(key_account="yes")))
    assert org in has
    assert org not in set(search_organisations(OrganisationQuery(key_account="no")))
    mine = set(search_organisations(OrganisationQuery(key_account="mine", viewer=tom.pk)))
    assert org in mine
    helen = persona("manager")
    assert org not in set(
        search_organisations(OrganisationQuery(key_account="mine", viewer=helen.pk))
    )
    multi = set(search_organisations(OrganisationQuery(key_account="multi")))
    assert all(o.multi_touch for o in multi) and len(multi) == 5
    # "mine" is saved as mine, whoever reruns it.
    assert (
        OrganisationQuery(key_account="mine", viewer=tom.pk).to_querystring() == "key_account=mine"
    )


def test_search_results_and_export_show_the_owner_and_the_star(client, setup, persona):
    client.force_login(persona("viewer"))
    page = client.get("/organisations/", {"text": "Quillfeather"}).content.decode()
    assert "Tom Bennett (School of Mechanical Engineering)" in page
    export = client.get("/organisations/export.csv", {"text": "Quillfeather"})
    body = b"".join(export.streaming_content).decode()
    assert "Ruth Key *" in body
    assert "School of Mechanical Engineering: Tom Bennett" in body
