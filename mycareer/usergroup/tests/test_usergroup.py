import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mycareer.audit.models import AuditEntry
from mycareer.core.tests.queries import assert_no_more_queries, steady_queries
from mycareer.usergroup import services
from mycareer.usergroup.models import Announcement, Feedback, Representative

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("representatives")
def test_one_representative_per_faculty_named_by_administrators(persona, cast):
    eps = cast["units"]["eps"]
    assert Representative.objects.get(unit=eps).user == persona("manager")
    with pytest.raises(PermissionDenied):
        services.representative_appoint(unit=eps, user=persona("operator"), by=persona("manager"))
    services.representative_appoint(unit=eps, user=persona("operator"), by=persona("admin"))
    assert Representative.objects.filter(unit=eps).count() == 1
    assert Representative.objects.get(unit=eps).user == persona("operator")
    with pytest.raises(ValidationError):
        services.representative_appoint(
            unit=cast["units"]["mech"], user=persona("operator"), by=persona("admin")
        )
    assert AuditEntry.objects.filter(action="usergroup.representative.appointed").exists()


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("admin", True),
        ("manager", True),
        ("operator", False),
        ("viewer", False),
    ],
)
@pytest.mark.usefixtures("representatives")
def test_representatives_and_administrators_publish_announcements(client, persona, name, allowed):
    client.force_login(persona(name))
    response = client.post(
        reverse("usergroup:announcement_create"),
        {"kind": "update", "title": f"Note from {name}", "body": "Text"},
    )
    assert response.status_code == (302 if allowed else 403)
    assert Announcement.objects.filter(title=f"Note from {name}").exists() == allowed


@pytest.mark.parametrize("name", ["student", "employer@demo-employer.com"])
def test_students_and_employers_see_none_of_it(client, persona, name):
    client.force_login(persona(name))
    for url in ("usergroup:group", "usergroup:board", "usergroup:feedback_create"):
        assert client.get(reverse(url)).status_code == 403
    assert "Usage policy version 2.1" not in client.get("/").content.decode()


def test_staff_see_announcements_on_their_home_page_until_they_dismiss_them(client, persona):
    services.announcement_publish(
        by=persona("admin"),
        kind="policy",
        title="Usage policy version 2.1 is in force",
        body="Please accept the updated terms when asked.",
    )
    client.force_login(persona("viewer"))
    assert "Usage policy version 2.1 is in force" in client.get("/").content.decode()
    announcement = Announcement.objects.get(title="Usage policy version 2.1 is in force")
    client.post(reverse("usergroup:dismiss", args=[announcement.pk]), {"next": "/"})
    assert "Usage policy version 2.1 is in force" not in client.get("/").content.decode()


@pytest.mark.usefixtures("representatives")
def test_anyone_on_staff_logs_a_fault_and_the_group_triages_it(client, persona):
    client.force_login(persona("untrained"))
    response = client.post(
        reverse("usergroup:feedback_create"),
        {
            "kind": "fault",
            "title": "Export button missing",
            "description": "On the search page",
            "page": "/organisations/",
        },
    )
    assert response.status_code == 302
    item = Feedback.objects.get(title="Export button missing")
    assert item.faculty == persona("untrained").memberships.first().unit.faculty
    assert item.votes.count() == 1
    triage = {"do": "triage", "status": "accepted", "comment": "We will fix it"}
    assert client.post(item.get_absolute_url(), triage).status_code == 403
    client.force_login(persona("manager"))
    assert client.post(item.get_absolute_url(), triage).status_code == 302
    item.refresh_from_db()
    assert item.status == "accepted"
    assert item.comments.get().text == "We will fix it"


def test_a_comment_without_a_new_status_reaches_the_person_who_logged_it(
    persona, django_capture_on_commit_callbacks
):
    """The box is labelled "Comment for the person who logged it", and they were emailed
    only when the status changed."""
    from django_tasks_db.models import DBTaskResult

    item = services.feedback_log(by=persona("viewer"), kind="fault", title="A", description="B")
    admin = persona("admin")
    services.feedback_triage(feedback=item, status="accepted", by=admin)
    emails = DBTaskResult.objects.filter(task_path__endswith="email_feedback_triaged")
    before = emails.count()
    with django_capture_on_commit_callbacks(execute=True):
        services.feedback_triage(feedback=item, status="accepted", by=admin, comment="Next week")
    assert emails.count() == before + 1
    with django_capture_on_commit_callbacks(execute=True):
        services.feedback_triage(feedback=item, status="accepted", by=admin)  # nothing new
    assert emails.count() == before + 1


def test_a_duplicate_must_say_of_what(persona):
    item = services.feedback_log(by=persona("viewer"), kind="fault", title="A", description="B")
    with pytest.raises(ValidationError):
        services.feedback_triage(feedback=item, status="duplicate", by=persona("admin"))


def test_triage_that_changes_nothing_writes_and_records_nothing(client, persona):
    item = services.feedback_log(by=persona("viewer"), kind="fault", title="A", description="B")
    admin = persona("admin")
    assert services.feedback_triage(feedback=item, status="accepted", by=admin) is True
    triaged = AuditEntry.objects.filter(action="usergroup.feedback.triaged")
    stamped = Feedback.objects.get(pk=item.pk).updated_at
    assert services.feedback_triage(feedback=item, status="accepted", by=admin) is False
    assert triaged.count() == 1
    assert Feedback.objects.get(pk=item.pk).updated_at == stamped
    # A comment is something done, even with the same status.
    assert services.feedback_triage(feedback=item, status="accepted", by=admin, comment="Soon")
    assert triaged.count() == 2 and item.comments.get().text == "Soon"

    client.force_login(admin)
    triage = {"do": "triage", "status": "accepted", "comment": ""}
    response = client.post(item.get_absolute_url(), triage, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    response = client.post(item.get_absolute_url(), {**triage, "status": "done"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["The status is changed."]
    assert triaged.count() == 3
    # A comment with the same status is not a change of status.
    response = client.post(
        item.get_absolute_url(), {**triage, "status": "done", "comment": "Fixed"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Your comment is added; the status is still done."
    ]


def test_a_duplicate_saved_unchanged_from_its_page_stays_a_duplicate(client, persona):
    admin = persona("admin")
    original = services.feedback_log(by=persona("viewer"), kind="fault", title="A", description="B")
    item = services.feedback_log(by=persona("viewer"), kind="fault", title="C", description="D")
    services.feedback_triage(feedback=item, status="duplicate", duplicate_of=original, by=admin)
    client.force_login(admin)
    form = client.get(item.get_absolute_url()).context["triage_form"]
    unchanged = {"do": "triage", "comment": ""}
    unchanged |= {name: form[name].value() or "" for name in ("status", "duplicate_of")}
    response = client.post(item.get_absolute_url(), unchanged, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Nothing was changed."]
    assert Feedback.objects.get(pk=item.pk).duplicate_of == original


def test_votes_count_once_and_the_board_sorts_by_votes(client, persona):
    first = services.feedback_log(
        by=persona("viewer"), kind="improvement", title="Popular", description="x"
    )
    services.feedback_log(by=persona("viewer"), kind="improvement", title="Quiet", description="x")
    for name in ("operator", "manager", "mailer"):
        assert services.feedback_vote(feedback=first, by=persona(name))
    assert not services.feedback_vote(feedback=first, by=persona("operator"))
    client.force_login(persona("viewer"))
    body = client.get(reverse("usergroup:board"), {"sort": "votes"}).content.decode()
    assert body.index("Popular") < body.index("Quiet")


def test_a_screenshot_must_be_an_image(client, persona):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(persona("viewer"))
    fake = SimpleUploadedFile("shot.png", b"not an image", content_type="image/png")
    response = client.post(
        reverse("usergroup:feedback_create"),
        {"kind": "fault", "title": "Keep my title", "description": "d", "screenshot": fake},
    )
    assert response.status_code == 200
    assert "Keep my title" in response.content.decode()
    assert not Feedback.objects.filter(title="Keep my title").exists()


@pytest.mark.django_db(transaction=True)
def test_announcements_can_be_emailed_to_staff(persona, cast, smtp_server, run_worker):
    from mycareer.accounts.models import NotificationMode, PendingNotification, User

    # Priya reads MyCareer's notifications once a day.
    User.objects.filter(pk=persona("admin").pk).update(notification_mode=NotificationMode.DIGEST)
    from mycareer.usergroup.selectors import announcement_recipients

    services.announcement_publish(
        by=persona("admin"),
        kind="policy",
        title="New data protection guidance",
        body="Read it",
        email=True,
        confirmed=len(announcement_recipients()),
    )
    run_worker()
    messages = [
        m for m in smtp_server.wait_for(5) if "New data protection guidance" in m["Subject"]
    ]
    staff = User.objects.filter(kind="staff", is_active=True)
    assert {m["To"] for m in messages} == set(
        staff.exclude(notification_mode=NotificationMode.DIGEST).values_list("email", flat=True)
    )
    assert "Read it" in messages[0].get_content()
    # Those who chose a daily digest find it there instead.
    assert set(
        PendingNotification.objects.filter(subject__contains="New data protection").values_list(
            "user__email", flat=True
        )
    ) == set(
        staff.filter(notification_mode=NotificationMode.DIGEST).values_list("email", flat=True)
    )
    assert PendingNotification.objects.exists()


# Lists cost the same however many rows they show ------------------------------------------


def test_the_group_page_costs_the_same_with_more_representatives_and_announcements(
    client, persona, cast
):
    admin, units = cast["admin"], cast["units"]

    def announce(n: int) -> None:
        for _ in range(n):
            services.announcement_publish(
                by=persona("manager"), kind="update", title="New search filters", body="Text"
            )

    services.representative_appoint(unit=units["eps"], user=persona("manager"), by=admin)
    announce(1)
    client.force_login(persona("operator"))
    page = reverse("usergroup:group")
    before = steady_queries(lambda: client.get(page))
    for code, name in (("business", "mailer"), ("ahc", "expiring")):
        services.representative_appoint(unit=units[code], user=persona(name), by=admin)
    announce(6)
    after = steady_queries(lambda: client.get(page))
    assert client.get(page).content.decode().count("New search filters") == 7
    assert_no_more_queries(before, after)


def test_the_board_costs_the_same_with_more_items(client, persona):
    staff = [persona(name) for name in ("operator", "manager", "mailer", "expiring")]
    operator = staff[0]

    def logged(n: int) -> None:
        for i in range(n):
            item = services.feedback_log(
                by=staff[i % len(staff)],
                kind=Feedback.Kind.FAULT,
                title="The search forgets its tags",
                description="Steps",
            )
            services.feedback_comment(feedback=item, by=operator, text="Me too")
            services.feedback_vote(feedback=item, by=operator)

    logged(1)
    client.force_login(operator)
    for sort in ("votes", "newest"):
        page = f"{reverse('usergroup:board')}?sort={sort}"
        before = steady_queries(lambda page=page: client.get(page))
        logged(4)
        after = steady_queries(lambda page=page: client.get(page))
        assert "(including yours)" in client.get(page).content.decode()
        assert_no_more_queries(before, after)


def test_a_screenshot_too_large_is_called_a_screenshot(client, persona):
    """It was checked as a logo, so the message said "The logo must be at most…"."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4001, 1), "white").save(buffer, "PNG")
    wide = SimpleUploadedFile("shot.png", buffer.getvalue(), content_type="image/png")
    client.force_login(persona("viewer"))
    response = client.post(
        reverse("usergroup:feedback_create"),
        {"kind": "fault", "title": "Keep my title", "description": "d", "screenshot": wide},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The screenshot must be at most 4000 pixels on each side." in body
    assert "The logo" not in body
