"""The opportunity pages and their one-click actions, as staff use them."""

import datetime

import pytest
from django.urls import reverse

from mycareer.insights import services, views
from mycareer.insights.models import Dismissal, Opportunity
from mycareer.insights.tests.helpers import aware, notes, organisation, unit
from mycareer.organisations.models import KeyAccount, Note
from mycareer.organisations.tests.factories import ContactFactory, key_account_with_contact

pytestmark = pytest.mark.django_db
MINE = reverse("insights:mine")
# A follow-up date to come (no more than five years ahead: further is a slip of the year).
SOON = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()


def quiet_accounts(persona, days_ago, count: int) -> list[KeyAccount]:
    tom = persona("operator")
    accounts = []
    for n in range(count):
        contact = ContactFactory(organisation=organisation(f"Quiet {n} Ltd"))
        account = key_account_with_contact(
            contact=contact, operator=tom, unit=unit("mech"), by=persona("admin")
        )
        KeyAccount.objects.filter(pk=account.pk).update(created_at=aware(days_ago(400)))
        notes(account.organisation, tom, [days_ago(100 + n)])
        accounts.append(account)
    return accounts


def test_for_me_lists_each_opportunity_with_its_reason_and_the_thresholds(
    client, persona, days_ago
):
    quiet_accounts(persona, days_ago, 1)
    client.force_login(persona("operator"))
    page = client.get(MINE).content.decode()
    assert "Not found yet" in page
    services.opportunities_refresh()

    page = client.get(MINE).content.decode()

    assert "Key account going quiet (1)" in page
    assert "no note by Tom Bennett since" in page and "(100 days; the threshold is 90)" in page
    assert (
        "Key accounts going quiet: no note by the owner for 90 days; at once, for "
        "administrators, when the owner has left." in page
    )
    assert "Found on" in page


def test_the_pages_read_a_fixed_number_of_queries(
    client, persona, days_ago, django_assert_max_num_queries
):
    services.opportunities_refresh()
    pages = [
        ("operator", MINE),
        ("admin", reverse("insights:everywhere")),
        ("admin", reverse("insights:unit", args=["eps"])),
    ]
    empty = {}
    for who, url in pages:
        client.force_login(persona(who))
        with django_assert_max_num_queries(40) as few:
            client.get(url)
        empty[url] = len(few.captured_queries)
    quiet_accounts(persona, days_ago, 12)
    services.opportunities_refresh()
    for who, url in pages:
        client.force_login(persona(who))
        with django_assert_max_num_queries(empty[url] + 1):
            response = client.get(url)
        assert response.content.decode().count('id="opportunity-') == views.PREVIEW, url
        with django_assert_max_num_queries(empty[url] + 1):
            response = client.get(url, {"kind": "key_quiet"})
        assert response.content.decode().count('id="opportunity-') == 12, url


def test_the_overview_shows_the_first_of_each_kind_and_see_all_pages_through_them_by_name(
    client, persona, days_ago
):
    names = [f"Quiet {n} Ltd" for n in range(views.PER_PAGE + 3)]
    accounts = quiet_accounts(persona, days_ago, len(names))
    # Made in one order, renamed into another: the pages list by name, whatever the ids.
    for account, name in zip(accounts, reversed(names), strict=True):
        account.organisation.name = name.lower() if name.endswith("7 Ltd") else name
        account.organisation.save(update_fields=["name"])
    services.opportunities_refresh()
    by_name = sorted(n.casefold() for n in names)
    client.force_login(persona("operator"))

    page = client.get(MINE).content.decode()
    assert page.count('id="opportunity-') == views.PREVIEW
    assert f"The first {views.PREVIEW} of {len(names)} are shown." in page
    assert f'href="?kind=key_quiet">See all {len(names)}' in page

    first = client.get(MINE, {"kind": "key_quiet"}).content.decode()
    second = client.get(MINE, {"kind": "key_quiet", "page": 2}).content.decode()
    assert first.count('id="opportunity-') == views.PER_PAGE
    assert second.count('id="opportunity-') == 3
    assert "Next page" in first and "Previous page" in second
    listed = [
        (o.organisation.name.casefold(), o.pk)
        for o in Opportunity.objects.select_related("organisation").order_by("position")
    ]
    assert [name for name, _ in listed] == by_name
    shown_first = [pk for _, pk in listed[: views.PER_PAGE]]
    assert all(f'id="opportunity-{pk}"' in first for pk in shown_first)
    assert first.index(f'id="opportunity-{shown_first[0]}"') < first.index(
        f'id="opportunity-{shown_first[-1]}"'
    )
    # An unknown kind is the overview, and says so (a link cut short is not every kind).
    unknown = client.get(MINE, {"kind": "nonsense"}).content.decode()
    assert unknown.count('id="opportunity-') == views.PREVIEW
    assert "“nonsense” is not a kind of opportunity" in unknown
    assert "every kind is shown" in unknown
    # A warning (the page still works), naming the kinds as the page does, not by the
    # codes in the address.
    [_, said] = unknown.split('<p class="message message--warning">')
    said = said.split("</p>")[0]
    assert "“nonsense” is not a kind of opportunity" in said
    assert "“Key account going quiet”" in said and "key_quiet" not in said


def test_one_click_records_a_follow_up_and_the_item_leaves_the_list(client, persona, days_ago):
    [account] = quiet_accounts(persona, days_ago, 1)
    services.opportunities_refresh()
    item = Opportunity.objects.get()
    tom = persona("operator")
    client.force_login(tom)
    due = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()

    response = client.post(
        reverse("insights:follow_up", args=[item.pk]),
        {"due_on": due, "assignee": tom.pk, "next": MINE},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == MINE
    page = response.content.decode()
    assert "Follow-up with Quiet 0 Ltd recorded for Tom Bennett" in page
    assert 'id="opportunity-' not in page
    note = Note.objects.get(follow_up_on__isnull=False)
    assert note.organisation == account.organisation and note.author == tom


def test_a_follow_up_for_a_colleague_and_bad_input(client, persona, days_ago):
    quiet_accounts(persona, days_ago, 1)
    services.opportunities_refresh()
    item = Opportunity.objects.get()
    client.force_login(persona("manager"))  # Helen, of the faculty Tom's school is in
    url = reverse("insights:follow_up", args=[item.pk])
    form = client.get(url).content.decode()
    assert "Tom Bennett" in form  # a colleague she may give it to

    bad = client.post(url, {"due_on": "not a date", "assignee": persona("operator").pk})
    assert bad.status_code == 400
    assert "Enter a valid date" in bad.content.decode()
    stranger = client.post(url, {"due_on": SOON, "assignee": persona("admin").pk})
    assert stranger.status_code == 400  # Priya is not in Helen's units
    assert Note.objects.filter(follow_up_on__isnull=False).count() == 0

    slip = client.post(url, {"due_on": "2099-01-01", "assignee": persona("operator").pk})
    assert slip.status_code == 400
    assert "A follow-up can be set up to 5 years ahead" in slip.content.decode()
    ok = client.post(url, {"due_on": SOON, "assignee": persona("operator").pk})
    assert ok.status_code == 302
    assert Note.objects.get(follow_up_on__isnull=False).author == persona("operator")


def test_dismissing_needs_a_reason_and_hides_it(client, persona, days_ago):
    quiet_accounts(persona, days_ago, 1)
    services.opportunities_refresh()
    item = Opportunity.objects.get()
    client.force_login(persona("operator"))
    url = reverse("insights:dismiss", args=[item.pk])

    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()

    done = client.post(url, {"reason": "Retiring the account.", "next": MINE}, follow=True)
    assert "set aside until" in done.content.decode()
    assert 'id="opportunity-' not in done.content.decode()
    assert Dismissal.objects.get().reason == "Retiring the account."


@pytest.mark.parametrize(
    ("action", "data"),
    [("follow_up", {"due_on": SOON}), ("dismiss", {"reason": "Retiring the account."})],
)
def test_a_second_press_records_nothing_more_and_says_what_was_done(
    client, persona, days_ago, action, data
):
    quiet_accounts(persona, days_ago, 1)
    services.opportunities_refresh()
    item = Opportunity.objects.get()
    tom = persona("operator")
    client.force_login(tom)
    url = reverse(f"insights:{action}", args=[item.pk])
    data = {**data, "assignee": tom.pk, "next": MINE}

    first = client.post(url, data)
    again = client.post(url, data, follow=True)

    assert first.status_code == 302
    assert again.redirect_chain[-1][0] == MINE
    assert "already" in again.content.decode() and "nothing more was recorded" in (
        again.content.decode()
    )
    assert Note.objects.filter(follow_up_on__isnull=False).count() == (action == "follow_up")
    assert Dismissal.objects.count() == (action == "dismiss")


def test_a_gone_opportunity_is_a_clear_404(client, persona):
    client.force_login(persona("operator"))
    response = client.post(reverse("insights:dismiss", args=[999999]), {"reason": "x"})
    assert response.status_code == 404


def test_a_campaign_for_the_chosen_organisations_reaches_exactly_them(client, persona, days_ago):
    accounts = quiet_accounts(persona, days_ago, 3)
    services.opportunities_refresh()
    client.force_login(persona("mailer"))
    page = client.get(reverse("insights:everywhere")).content.decode()
    assert 'form="selection"' in page and 'id="selection"' in page
    chosen = [accounts[0].organisation_id, accounts[2].organisation_id]

    response = client.get(reverse("mailing:campaign_create"), {"ids": chosen})

    assert response.status_code == 200
    form = response.context["chosen_form"]
    assert form.initial["recipient_filters"] == {"ids": sorted(chosen)}


def test_the_staff_profile_shows_the_score_its_parts_and_24_months(client, persona, days_ago):
    from mycareer.insights.scores import scores_refresh

    tom = persona("operator")
    org = organisation("Scored Ltd")
    notes(org, tom, [days_ago(10), days_ago(20)])
    client.force_login(tom)
    assert "Not scored yet" in client.get(org.get_absolute_url()).content.decode()
    scores_refresh()

    page = client.get(org.get_absolute_url()).content.decode()

    assert "Engagement score: 41 of 100" in page
    assert "<strong>Recency</strong>: 30 of 30 (last note or event 10 days ago)" in page
    assert "<strong>Frequency</strong>: 6 of 30 (2 notes in 12 months)" in page
    assert "1 month scored" in page and "<polyline" in page
    assert page.count("Not scored</td>") == 23


def test_students_never_see_the_score(client, persona):
    from mycareer.insights.scores import scores_refresh

    org = organisation("Public Ltd")
    scores_refresh()
    client.force_login(persona("student"))
    page = client.get(org.get_absolute_url()).content.decode()
    assert "Public Ltd" in page and "Engagement score" not in page


def test_viewers_read_the_opportunities_but_are_offered_no_actions(client, persona, days_ago):
    """Viewers see staff pages (policy 3: operator access is to create and edit), so the
    menu and the lists are theirs to read; recording, dismissing and emailing are not."""
    quiet_accounts(persona, days_ago, 1)
    services.opportunities_refresh()
    item = Opportunity.objects.get()
    everywhere = reverse("insights:everywhere")
    follow_up = reverse("insights:follow_up", args=[item.pk])
    dismiss = reverse("insights:dismiss", args=[item.pk])

    client.force_login(persona("operator"))
    home = client.get("/").content.decode()
    page = client.get(everywhere).content.decode()
    assert f'href="{MINE}"' in home
    assert "no note by Tom Bennett since" in page
    assert follow_up in page and dismiss in page
    assert "act on it in one click" in page

    client.force_login(persona("viewer"))
    home = client.get("/").content.decode()
    page = client.get(everywhere).content.decode()
    assert f'href="{MINE}"' in home
    assert "no note by Tom Bennett since" in page
    assert follow_up not in page and dismiss not in page
    assert 'name="ids"' not in page and "Start a campaign" not in page
    assert "act on it in one click" not in page
    assert "Operators act on them. Your access level is Viewer; to create and edit" in page

    # An operator whose training lapsed is told that, not that the level is too low.
    client.force_login(persona("untrained"))
    page = client.get(everywhere).content.decode()
    assert "act on it in one click" not in page
    assert "Operators act on them. Your operator training ran out after" in page
    assert "your access lets you see staff pages" not in page
    assert client.get(follow_up).status_code == 403
    assert client.post(dismiss, {"reason": "No."}).status_code == 403
    assert not Dismissal.objects.exists()
