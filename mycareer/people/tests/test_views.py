"""The administrators' upload page: check a file (a dry run), confirm, the worker writes it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mycareer.accounts.models import User
from mycareer.people.models import FeedImport
from mycareer.people.tests.test_feed import ROWS, feed_file, student


def upload(client, rows, name="feed.csv"):
    return client.post(
        reverse("people:import"), {"file": SimpleUploadedFile(name, feed_file(rows))}
    )


def test_a_small_file_is_checked_at_once_and_nothing_is_written(client, cast, persona):
    client.force_login(persona("admin"))
    rows = [*ROWS, student("s9@uni", "s9@demo.ac.uk", programme="bsc-astro")]
    response = upload(client, rows)
    checked = FeedImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people:check", args=[checked.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Nothing has been written yet." in page
    assert "Programme “bsc-astro”: 1 row" in page
    assert "The programme “bsc-astro” is not in MyCareer." in page
    assert "Confirming creates 3, updates 0 and makes 0 inactive, and skips 1 row." in page
    assert "Ada Byron (s1@demo.ac.uk)" in page
    assert not User.objects.filter(university_id="s1@uni").exists()
    assert checked.status == "checked"


def test_unknown_codes_send_only_those_whom_djangos_admin_opens_to_it(client, cast, persona):
    """MyCareer's administrators are not Django admin users: sent there, they were refused."""
    admin = persona("admin")
    client.force_login(admin)
    rows = [*ROWS, student("s9@uni", "s9@demo.ac.uk", programme="bsc-astro")]
    check = upload(client, rows)["Location"]
    page = client.get(check).content.decode()
    assert "Ask the person who set MyCareer up (a superuser" in page
    assert reverse("admin:accounts_unit_changelist") not in page
    # Marked staff there, without the admin's permission on units: still refused there.
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    page = client.get(check).content.decode()
    assert reverse("admin:accounts_unit_changelist") not in page
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    page = client.get(check).content.decode()
    assert "Add them in Django's admin (<a" in page
    assert reverse("admin:accounts_degreeprogramme_changelist") in page
    assert reverse("admin:accounts_unit_changelist") in page


@pytest.fixture
def admin_with_large_files(client, persona, settings, tmp_path, monkeypatch):
    """The administrator logged in, every file counted large (checked by the worker)."""
    from mycareer.people import views

    monkeypatch.setattr(views, "INLINE_CHECK_BYTES", 10)
    settings.MEDIA_ROOT = tmp_path
    client.force_login(persona("admin"))
    return client


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_checked_and_written_by_the_worker(
    admin_with_large_files, cast, run_worker, tmp_path
):
    client = admin_with_large_files
    response = upload(client, ROWS)
    page = client.get(response["Location"]).content.decode()
    assert "MyCareer is reading this file" in page
    checked = FeedImport.objects.get()
    assert checked.status == "checking"
    run_worker()
    page = client.get(response["Location"]).content.decode()
    assert "Confirming creates 3, updates 0 and makes 0 inactive." in page
    assert not User.objects.filter(university_id="s1@uni").exists()

    response = client.post(reverse("people:confirm", args=[checked.pk]))
    assert response.status_code == 302
    # The button pressed again before the worker starts: one import, and the person told.
    twice = client.post(reverse("people:confirm", args=[checked.pk]), follow=True)
    assert "is already being imported." in twice.content.decode()
    run_worker()
    checked.refresh_from_db()
    assert checked.status == "done", checked.error
    assert checked.counts["created"] == 3
    assert User.objects.filter(university_id="s1@uni").exists()
    assert not list(tmp_path.glob("people-feed/*")), "the stored file is removed"
    page = client.get(reverse("people:import")).content.decode()
    assert "3 created, 0 updated, 0 unchanged, 0 left" in page
    # Confirming twice does nothing more, and says so.
    again = client.post(reverse("people:confirm", args=[checked.pk]), follow=True)
    assert again.redirect_chain[-1][0] == reverse("people:import")
    assert "is already imported." in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_large_file_the_worker_cannot_read_says_why(
    admin_with_large_files, cast, run_worker, tmp_path
):
    client = admin_with_large_files
    response = client.post(
        reverse("people:import"),
        {"file": SimpleUploadedFile("feed.csv", b"Kind,Email,Shoe size\nstaff,a@b.ac.uk,9\n")},
    )
    run_worker()
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page and "“Shoe size”" in page
    assert not list(tmp_path.glob("people-feed/*"))


def test_a_file_that_changes_nothing_offers_nothing_to_confirm(client, cast, persona):
    client.force_login(persona("admin"))
    rows = [{**ROWS[0], "Programme code": "nope"}]
    response = upload(client, rows)
    page = client.get(response["Location"]).content.decode()
    assert "There is nothing to import" in page
    checked = FeedImport.objects.get()
    assert checked.stored_file == ""
    assert client.post(reverse("people:confirm", args=[checked.pk])).status_code == 302
    checked.refresh_from_db()
    assert checked.status == "checked"


def test_someone_elses_check_is_not_found(client, cast, persona):
    checked = FeedImport.objects.create(
        filename="feed.csv", source="upload", status="checked", by=persona("operator")
    )
    client.force_login(persona("admin"))
    assert client.get(reverse("people:check", args=[checked.pk])).status_code == 404


def test_a_bad_file_is_refused_with_a_reason_and_a_4xx_never_a_500(client, cast, persona):
    client.force_login(persona("admin"))
    response = client.post(
        reverse("people:import"),
        {"file": SimpleUploadedFile("feed.csv", b"Name,Shoe size\nJo,9\n")},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "including “Kind”" in page and "“Shoe size”" in page
    response = client.post(
        reverse("people:import"), {"file": SimpleUploadedFile("feed.pdf", b"%PDF-1.4")}
    )
    assert "Upload a CSV file (.csv) or an Excel workbook (.xlsx)." in response.content.decode()


def test_only_the_person_who_checked_a_file_may_confirm_it(client, cast, persona):
    # Checked by someone else (an administrator since demoted, say): not the admin's to send.
    checked = FeedImport.objects.create(
        filename="feed.csv", source="upload", status="checked", by=persona("operator")
    )
    client.force_login(persona("admin"))
    response = client.post(reverse("people:confirm", args=[checked.pk]))
    assert response.status_code == 404
    checked.refresh_from_db()
    assert checked.status == "checked"


def test_the_template_lists_every_column(client, cast, persona):
    client.force_login(persona("admin"))
    response = client.get(reverse("people:template"))
    assert response["Content-Type"].startswith("text/csv")
    first = response.content.decode("utf-8-sig").splitlines()[0]
    assert first.startswith("Kind,Stable id,Email,")


def test_the_upload_page_lists_recent_imports_in_few_queries(
    client, cast, persona, django_assert_max_num_queries
):
    for n in range(12):
        FeedImport.objects.create(
            filename=f"feed-{n}.csv",
            source="command",
            status="done",
            counts={
                "created": n,
                "updated": 0,
                "unchanged": 0,
                "left": 0,
                "missing": 0,
                "skipped": 0,
                "unknown_programmes": {},
                "unknown_units": {},
            },
        )
    client.force_login(persona("admin"))
    with django_assert_max_num_queries(20):
        page = client.get(reverse("people:import")).content.decode()
    assert "feed-11.csv" in page and "feed-1.csv" not in page


def test_unknown_department_codes_from_the_sign_in_are_listed_until_the_unit_exists(
    client, cast, persona
):
    from mycareer.accounts.models import UnknownDepartmentCode
    from mycareer.accounts.tests.factories import UnitFactory

    UnknownDepartmentCode.objects.create(code="astro-phys", provider="saml", sign_ins=3)
    client.force_login(persona("admin"))
    page = client.get(reverse("people:import")).content.decode()
    assert "Department codes from the university sign-in that MyCareer does not know" in page
    assert "<code>astro-phys</code>" in page
    assert "Ask the person who set MyCareer up" in page
    UnitFactory(code="astro-phys")
    page = client.get(reverse("people:import")).content.decode()
    assert "astro-phys" not in page
