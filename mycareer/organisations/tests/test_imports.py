import csv
import html
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook

from mycareer.audit.models import AuditEntry
from mycareer.organisations import imports, services
from mycareer.organisations.imports import Outcome
from mycareer.organisations.matching import DuplicateFinder, domains_match, is_free_mail
from mycareer.organisations.models import Contact, Organisation

HEADINGS = [c.heading for c in imports.COLUMNS]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(persona):
    return persona("operator")


def row(name="", **values) -> list[str]:
    keys = [c.key for c in imports.COLUMNS]
    values["name"] = name
    return [values.get(key, "") for key in keys]


def csv_bytes(rows, *, headings=HEADINGS, delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headings)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def upload(client, data: bytes, name="organisations.csv"):
    return client.post(reverse("organisations:import"), {"file": SimpleUploadedFile(name, data)})


def confirm(client, response, ticked=()):
    token = response.context["token"]
    assert token, "the check page offers no confirmation"
    return client.post(
        reverse("organisations:import_confirm"), {"token": token, "create_anyway": list(ticked)}
    )


def state():
    return (Organisation.objects.count(), Contact.objects.count(), AuditEntry.objects.count())


GOOD = [
    row(
        "Wharfedale Robotics Ltd",
        website="wharfedale-robotics.co.uk",
        sector="technology AND software",
        size="Small",
        locations="Otley, Leeds",
        description="Robots for greenhouses.",
        tags="Placements; Start-up",
        full_name="Ada Quinn",
        job_title="CTO",
        email="Ada.Quinn@wharfedale-robotics.co.uk",
        phone="0113 496 1111",
        visible_to_students="yes",
        email_consent="Y",
    ),
    row(
        "Wharfedale Robotics Ltd",
        tags="Internships",
        full_name="Ben Ode",
        email="ben@wharfedale-robotics.co.uk",
    ),
    row("Skipton Bakeries", size="micro", tags="Retail | Food", full_name="Cara Lee"),
    row("Ilkley Lido Trust"),
]


@pytest.mark.django_db
def test_a_valid_csv_creates_organisations_contacts_and_tags(client, operator):
    client.force_login(operator)
    response = upload(client, csv_bytes(GOOD))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts["create"], counts["contacts_add"], counts["bad_rows"]) == (3, 3, 0)
    # Nothing is written by the check.
    assert not Organisation.objects.filter(name="Skipton Bakeries").exists()

    done = confirm(client, response)
    assert done.status_code == 200
    assert "3 organisations created" in done.content.decode()
    robotics = Organisation.objects.get(name="Wharfedale Robotics Ltd")
    assert robotics.website == "https://wharfedale-robotics.co.uk"
    assert robotics.sector.name == "Technology and software"
    assert robotics.size == Organisation.Size.SMALL
    assert robotics.locations == "Otley, Leeds"
    assert robotics.created_by == operator
    assert robotics.unit == operator.memberships.first().unit
    assert sorted(robotics.tags.names()) == ["Internships", "Placements", "Start-up"]
    ada, ben = robotics.contacts.order_by("full_name")
    assert (ada.email, ada.job_title, ada.phone) == (
        "ada.quinn@wharfedale-robotics.co.uk",
        "CTO",
        "0113 496 1111",
    )
    assert ada.visible_to_students and ada.email_consent
    assert ada.visibility_changed_by == operator
    assert not ben.visible_to_students and not ben.email_consent
    bakery = Organisation.objects.get(name="Skipton Bakeries")
    assert sorted(bakery.tags.names()) == ["Food", "Retail"]
    assert bakery.size == Organisation.Size.MICRO
    assert list(bakery.contacts.values_list("full_name", flat=True)) == ["Cara Lee"]
    assert Organisation.objects.get(name="Ilkley Lido Trust").contacts.count() == 0
    entry = AuditEntry.objects.get(action="organisations.organisation.imported")
    assert entry.actor == operator
    assert entry.data["file"] == "organisations.csv"
    assert (entry.data["created"], entry.data["updated"], entry.data["contacts"]) == (3, 0, 3)
    # Each change is audited through the ordinary services too.
    assert AuditEntry.objects.filter(
        action="organisations.contact.created", object_id=str(ada.pk)
    ).exists()


@pytest.mark.django_db
def test_an_excel_workbook_imports_like_a_csv(client, operator):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ORGANISATION NAME", "contact name", "Contact Phone", "Contact email consent"])
    sheet.append(["Harrogate Hydro", "Dee Vine", 1134960000, True])
    sheet.append(["Harrogate Hydro", "Eve Stone", "0113 496 2222", False])
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(operator)
    response = upload(client, out.getvalue(), name="Hydro.XLSX")
    assert response.context["counts"]["contacts_add"] == 2
    confirm(client, response)
    hydro = Organisation.objects.get(name="Harrogate Hydro")
    dee, eve = hydro.contacts.order_by("full_name")
    assert (dee.phone, dee.email_consent) == ("1134960000", True)
    assert (eve.phone, eve.email_consent) == ("0113 496 2222", False)


@pytest.mark.django_db
def test_a_number_too_long_for_a_workbook_is_quoted_as_the_workbook_holds_it():
    # A spreadsheet keeps a 20-digit number as a float (this one holds
    # 1.234567890123457E+19); the check quoted 12345678901234569216, digits that are in
    # no cell of the file and that no spreadsheet shows.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Organisation name", "Contact name", "Contact phone"])
    sheet.append(["Twenty Digits Ltd", "Eve Num", 1.2345678901234567e19])
    out = io.BytesIO()
    workbook.save(out)
    plan = imports.plan_import(data=out.getvalue(), filename="phones.xlsx")
    [problem] = plan.problems
    assert "“12345678901234570000”" in problem.message


@pytest.mark.django_db
def test_a_semicolon_csv_with_a_byte_order_mark_is_read(operator):
    data = csv_bytes(
        [row("Keighley Looms", tags="Textiles", full_name="Flo Nash")], delimiter=";", bom=True
    )
    plan = imports.plan_import(data=data, filename="looms.csv")
    assert plan.is_valid
    assert plan.groups[0].name == "Keighley Looms"
    assert plan.groups[0].tags == ["Textiles"]
    assert plan.groups[0].contacts[0].full_name == "Flo Nash"


@pytest.mark.django_db
def test_one_bad_row_among_good_ones_writes_nothing_and_is_reported(client, operator):
    rows = [*GOOD[:2], row("Skipton Bakeries", full_name="Cara Lee", email="cara@@bakery"), GOOD[3]]
    client.force_login(operator)
    before = state()
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing can be imported until every row is valid" in page
    # Its row under "Row" (read out as "Row: 4" on a phone, not "Row: Row 4").
    assert '<td data-label="Row">4</td>' in page
    assert "“cara@@bakery” is not a valid email address." in page
    assert reverse("organisations:import_confirm") not in page
    assert response.context["token"] == ""
    # Nothing was stored to confirm later, either.
    assert state() == before
    refused = client.post(reverse("organisations:import_confirm"), {"token": ""})
    assert refused.status_code == 403
    assert state() == before


@pytest.mark.django_db
def test_every_bad_row_is_reported_with_its_reason(cast):
    rows = [
        row("", full_name="Nobody"),  # 2
        row("Bad Email Co", full_name="X", email="not-an-email"),  # 3
        row("Bad Sector Co", sector="Piracy"),  # 4
        row("Bad Size Co", size="gigantic"),  # 5
        row("Bad Flag Co", full_name="Y", visible_to_students="maybe"),  # 6
        row("Twice Co", full_name="A", email="same@twice.example"),  # 7
        row("Twice Co", full_name="B", email="SAME@twice.example"),  # 8
        row("Bad Web Co", website="not a website"),  # 9
        row("Nameless Contact Co", email="who@nameless.example"),  # 10
        row("Fine Co"),  # 11
        row("Fine Co", website="fine.example", full_name="Z"),  # 12
        row("Fine Co", website="other.example"),  # 13
    ]
    plan = imports.plan_import(data=csv_bytes(rows), filename="bad.csv")
    reported = {(p.row, p.message) for p in plan.problems}
    assert (2, "The organisation name is missing.") in reported
    assert (3, "“not-an-email” is not a valid email address.") in reported
    assert any(r == 4 and "“Piracy” is not one of MyCareer's sectors" in m for r, m in reported)
    assert any(r == 5 and "“gigantic” is not a size" in m for r, m in reported)
    assert (6, "“Contact visible to students” must be yes or no, not “maybe”.") in reported
    assert any(r == 8 and "same@twice.example is also on row 7" in m for r, m in reported)
    assert (9, "The website “not a website” is not a web address.") in reported
    assert any(r == 10 and "contact's name is missing" in m for r, m in reported)
    assert any(r == 13 and "“Website” differs from row 12" in m for r, m in reported)
    assert {p.row for p in plan.problems} == {2, 3, 4, 5, 6, 8, 9, 10, 13}
    assert not plan.is_valid
    outcomes = {g.name: g.outcome for g in plan.groups}
    assert outcomes["Fine Co"] == Outcome.REJECTED
    assert outcomes["Twice Co"] == Outcome.REJECTED
    with pytest.raises(ValidationError):
        imports.import_apply(plan=plan, by=None)


@pytest.mark.django_db
def test_a_description_longer_than_the_edit_page_takes_is_a_row_to_correct():
    """Imported longer than 20,000 characters, a record could not then be saved from its
    own edit page, even to change its website."""
    rows = [
        row("Long Winded Ltd", description="Words. " * 3000),
        row("Just Right Ltd", description="x" * 20_000),
    ]
    plan = imports.plan_import(data=csv_bytes(rows), filename="long.csv")
    [problem] = plan.problems
    assert problem.row == 2
    assert "The description is 20,999 characters: keep it to 20,000." in problem.message


@pytest.mark.django_db
def test_a_phone_the_contact_form_refuses_is_reported_at_the_check_not_at_the_import():
    # The check said "rows to correct: 0"; the import then failed on the phone and the
    # page still offered "Import now", which failed again.
    rows = [row("Twenty Digits Ltd", full_name="Eve Num", phone="12345678901234567890")]
    plan = imports.plan_import(data=csv_bytes(rows), filename="phones.csv")
    [problem] = plan.problems
    assert problem.row == 2
    assert "“12345678901234567890”" in problem.message
    assert "7 to 15 digits" in problem.message
    assert not plan.is_valid


@pytest.mark.django_db
def test_a_comma_inside_an_unquoted_value_is_caught():
    data = b"Organisation name,Description\nLoose Commas Ltd,Makes nuts, bolts\n"
    plan = imports.plan_import(data=data, filename="loose.csv")
    assert [p.row for p in plan.problems] == [2]
    assert "columns without a heading" in plan.problems[0].message


@pytest.mark.django_db
def test_an_existing_organisation_is_updated_not_duplicated(client, operator):
    acme = services.organisation_create(
        by=operator, name="Acme Ltd", description="Anvils.", confirm_duplicates=True
    )
    services.organisation_set_tags(organisation=acme, tags=["Placements"], by=operator)
    jo = services.contact_create(
        organisation=acme, by=operator, full_name="Jo Bloggs", email="jo@acme.co.uk"
    )
    rows = [
        row(
            "ACME Limited",
            website="acme.co.uk",
            description="Something else.",
            tags="placements; Graduate recruiter",
            full_name="Jo Bloggs",
            email="JO@acme.co.uk",
            phone="0113 496 3333",
            visible_to_students="yes",
            email_consent="yes",
        ),
        row("ACME Limited", full_name="Kim New", email="kim@acme.co.uk"),
    ]
    client.force_login(operator)
    response = upload(client, csv_bytes(rows))
    group = response.context["plan"].groups[0]
    assert (group.outcome, group.existing_id) == (Outcome.UPDATE, acme.pk)
    assert group.new_tags == ["Graduate recruiter"]
    page = response.content.decode()
    assert "Description stays “Anvils.”" in page
    assert "visibility to students stays as it is" in page
    assert ".." not in page  # each note is its own sentence, not one full stop after another

    before = Organisation.objects.count()
    confirm(client, response)
    assert Organisation.objects.count() == before
    acme.refresh_from_db()
    jo.refresh_from_db()
    assert acme.website == "https://acme.co.uk"
    assert acme.description == "Anvils."  # filled only where blank
    assert sorted(acme.tags.names()) == ["Graduate recruiter", "Placements"]
    assert sorted(acme.contacts.values_list("email", flat=True)) == [
        "jo@acme.co.uk",
        "kim@acme.co.uk",
    ]
    assert jo.phone == "0113 496 3333"
    # The person's own choice about students is not overridden by a spreadsheet.
    assert jo.visible_to_students is False
    entry = AuditEntry.objects.get(action="organisations.organisation.imported")
    assert (entry.data["created"], entry.data["updated"], entry.data["contacts"]) == (0, 1, 1)

    # The same file again changes nothing, and says so.
    again = upload(client, csv_bytes(rows))
    assert [g.outcome for g in again.context["plan"].groups] == [Outcome.UNCHANGED]
    assert "There is nothing to import" in again.content.decode()
    assert reverse("organisations:import_confirm") not in again.content.decode()


@pytest.mark.django_db
def test_a_new_contact_of_an_employer_who_signs_in_stays_hidden_from_students(
    client, operator, cast
):
    """The employer decides what students see: a spreadsheet could add their colleague
    with details shown to students."""
    from mycareer.organisations.tests.factories import brightwave_digital

    brightwave = brightwave_digital(cast["employer"])
    rows = [
        row(
            "Brightwave Digital",
            full_name="Kim New",
            email="kim@x.example",
            visible_to_students="yes",
        )
    ]
    client.force_login(operator)
    response = upload(client, csv_bytes(rows))
    assert (
        "Kim New's details stay hidden from students: Brightwave Digital decides that itself"
        in html.unescape(response.content.decode())
    )
    confirm(client, response)
    assert brightwave.contacts.get(email="kim@x.example").visible_to_students is False


@pytest.mark.django_db
def test_a_website_matches_an_existing_organisation_by_domain(operator):
    org = services.organisation_create(
        by=operator,
        name="Otley Ovens",
        website="https://www.otleyovens.co.uk",
        confirm_duplicates=True,
    )
    data = csv_bytes([row("Otley Ovens Bakery Group", website="http://otleyovens.co.uk/about")])
    group = imports.plan_import(data=data, filename="x.csv").groups[0]
    assert (group.outcome, group.existing_id) == (Outcome.UNCHANGED, org.pk)
    assert group.match_reason == "same web domain: otleyovens.co.uk"


@pytest.mark.django_db
def test_a_likely_duplicate_is_flagged_and_created_only_when_ticked(client, operator):
    existing = services.organisation_create(
        by=operator, name="Acme Engineering Ltd", confirm_duplicates=True
    )
    rows = [row("Acme Enginering Ltd", full_name="Lou Typo"), row("Bramley Brewers")]
    client.force_login(operator)

    response = upload(client, csv_bytes(rows))
    plan = response.context["plan"]
    duplicate = plan.groups[0]
    assert duplicate.outcome == Outcome.DUPLICATE
    assert duplicate.candidates[0].organisation_id == existing.pk
    assert duplicate.candidates[0].reasons[0].startswith("Similar name")
    page = response.content.decode()
    assert "Create “Acme Enginering Ltd” anyway" in page
    done = confirm(client, response)
    assert "Acme Enginering Ltd" in done.content.decode()  # listed as left out
    assert not Organisation.objects.filter(name="Acme Enginering Ltd").exists()
    brewers = Organisation.objects.get(name="Bramley Brewers")
    # The trail said every organisation imported was a likely duplicate let through.
    assert (
        AuditEntry.objects.get(
            action="organisations.organisation.created", object_id=str(brewers.pk)
        ).data["duplicates_confirmed"]
        is False
    )

    rows = [row("Acme Enginering Ltd", full_name="Lou Typo")]
    response = upload(client, csv_bytes(rows))
    confirm(client, response, ticked=[response.context["plan"].groups[0].number])
    created = Organisation.objects.get(name="Acme Enginering Ltd")
    assert created.contacts.get().full_name == "Lou Typo"
    assert AuditEntry.objects.filter(
        action="organisations.organisation.created",
        object_id=str(created.pk),
        data__duplicates_confirmed=True,
    ).exists()


@pytest.mark.django_db
def test_the_confirmation_refuses_a_forged_or_someone_elses_token(client, operator, persona):
    client.force_login(operator)
    response = upload(client, csv_bytes(GOOD))
    token = response.context["token"]
    before = state()

    client.force_login(persona("manager"))
    refused = client.post(reverse("organisations:import_confirm"), {"token": token})
    assert refused.status_code == 403
    forged = client.post(reverse("organisations:import_confirm"), {"token": token[:-3] + "abc"})
    assert forged.status_code == 403
    assert state() == before

    # Its owner can still confirm it, once.
    client.force_login(operator)
    assert client.post(reverse("organisations:import_confirm"), {"token": token}).status_code == 200
    assert Organisation.objects.filter(name="Skipton Bakeries").exists()
    after = state()
    second = client.post(reverse("organisations:import_confirm"), {"token": token}, follow=True)
    assert "already imported" in second.content.decode()
    assert state() == after


@pytest.mark.django_db
def test_a_change_in_mycareer_after_the_check_stops_the_confirmation(client, operator):
    client.force_login(operator)
    response = upload(client, csv_bytes(GOOD))
    services.organisation_create(by=operator, name="Skipton Bakeries", confirm_duplicates=True)
    before = state()
    again = confirm(client, response)
    assert "changed since you checked this file" in again.content.decode()
    assert state() == before
    # The new check is offered: the bakery is now an update, not a second record.
    outcomes = {g.name: g.outcome for g in again.context["plan"].groups}
    assert outcomes["Skipton Bakeries"] == Outcome.UPDATE
    confirm(client, again)
    assert Organisation.objects.filter(name="Skipton Bakeries").count() == 1


@pytest.mark.django_db
def test_a_failure_part_way_through_writing_leaves_nothing_written(client, operator, monkeypatch):
    from django.db import DatabaseError

    real = imports._new_contact
    calls = []

    def third_refused(plan, by, now):
        calls.append(plan.full_name)
        if len(calls) == 3:
            raise ValidationError({"full_name": "Refused for the test."})
        return real(plan, by, now)

    rows = [*GOOD, row("Fourth Org Ltd")]
    client.force_login(operator)
    response = upload(client, csv_bytes(rows))
    before = state()
    monkeypatch.setattr(imports, "_new_contact", third_refused)
    failed = confirm(client, response)
    assert len(calls) == 3
    page = failed.content.decode()
    assert re.search(r"Nothing was imported: row [0-9–]+ \([^)]+\) was refused", page)
    assert "Refused for the test." in page
    assert state() == before
    assert not Organisation.objects.filter(name="Wharfedale Robotics Ltd").exists()
    monkeypatch.setattr(imports, "_new_contact", real)

    # The last step of the write failing undoes the organisations already inserted.
    def refused(entries):
        assert Organisation.objects.filter(name="Skipton Bakeries").exists()
        raise DatabaseError("disk full")

    monkeypatch.setattr(imports.audit, "log_many", refused)
    plan = imports.plan_import(data=csv_bytes(rows), filename="x.csv")
    with pytest.raises(ValidationError, match="the database refused part of the file"):
        imports.import_apply(plan=plan, by=operator)
    assert state() == before

    # An unexpected error rolls back just the same.
    def boom(entries):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports.audit, "log_many", boom)
    with pytest.raises(RuntimeError):
        imports.import_apply(plan=plan, by=operator)
    assert state() == before


URLS = ["organisations:import", "organisations:import_confirm", "organisations:import_template"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["viewer", "student", "employer@demo-employer.com", None])
def test_only_operators_may_import(client, persona, url, who):
    if who:
        client.force_login(persona(who))
    method = client.post if url.endswith("confirm") else client.get
    response = method(reverse(url))
    if who is None:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == 403


@pytest.mark.django_db
def test_operators_see_the_upload_page_and_the_template(client, operator):
    client.force_login(operator)
    page = client.get(reverse("organisations:import"))
    assert page.status_code == 200
    assert reverse("organisations:import_template") in page.content.decode()
    template = client.get(reverse("organisations:import_template"))
    assert template["Content-Type"].startswith("text/csv")
    data = template.content
    assert data.startswith("\ufeff".encode())
    # The template is itself a valid import.
    plan = imports.plan_import(data=data, filename="organisations-import.csv")
    assert plan.is_valid
    assert [len(g.contacts) for g in plan.groups] == [2]
    assert client.get(reverse("organisations:import_confirm")).status_code == 405


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, data, message",
    [
        ("logo.csv", PNG, "This file is not a CSV file"),
        ("table.xlsx", b"Organisation name\nAcme\n", "is not an Excel workbook"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "cannot read .xls files"),
        ("notes.txt", b"Organisation name\nAcme\n", "Upload a CSV file (.csv) or an Excel"),
        ("latin.csv", "Organisation name\nCafé Ltd\n".encode("cp1252"), "not UTF-8 text"),
        ("unicode.csv", "Organisation name\nCafé Ltd\n".encode("utf-16"), "not UTF-8 text"),
        ("empty.csv", b"", "The submitted file is empty"),
        ("blank.csv", b"\n\n", "This file is empty"),
        ("headings.csv", b"Organisation name\n", "no rows to import"),
        ("typo.csv", b"Organisation name,Contact emial\nAcme,a@b.com\n", "“Contact emial”"),
        ("nameless.csv", b"Website\nacme.com\n", "including “Organisation name”"),
    ],
)
def test_files_that_cannot_be_read_are_refused_with_a_message(
    client, operator, name, data, message
):
    client.force_login(operator)
    before = state()
    response = upload(client, data, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors
    assert state() == before


@pytest.mark.django_db
def test_a_quote_never_closed_is_named_as_the_likely_cause_of_a_cell_too_long(client, operator):
    client.force_login(operator)
    data = b'Organisation name,Description\nAcme,"Makes things\n' + b"x" * 140_000 + b"\n"
    page = upload(client, data).content.decode()
    assert "The row starting on line 2 of this CSV file has a cell of more than 131,072" in page
    assert "a quote mark (&quot;) in it is never closed" in page
    assert "field limit" not in page


@pytest.mark.django_db
def test_a_quote_never_closed_is_refused_before_it_swallows_the_rows_after_it(client, operator):
    """Read leniently, Beta Ltd became part of Acme's description, and the check page
    showed one organisation where the file had two."""
    client.force_login(operator)
    before = state()
    data = (
        b'Organisation name,Description\nZed Co,"Fine, quoted"\nYak Ltd,"Best" employer\n'
        b'Acme,"Makes things\nBeta Ltd,Other\n'
    )
    page = upload(client, data).content.decode()
    assert "The row starting on line 4 of this CSV file has a quote mark (&quot;) that is " in page
    assert "never closed" in page
    assert state() == before
    # Quotes that close, and a quote inside an unquoted cell, are read as before.
    data = b'Organisation name,Description\nAcme,"Makes ""things"", well"\nBeta Ltd,12" pipes\n'
    plan = imports.plan_import(data=data, filename="x.csv")
    assert [g.name for g in plan.groups] == ["Acme", "Beta Ltd"]


@pytest.mark.django_db
def test_files_too_big_or_too_long_are_refused(client, operator):
    client.force_login(operator)
    big = b"Organisation name\n" + b"x" * imports.MAX_BYTES
    assert "at most 5 MB" in upload(client, big).content.decode()
    long = csv_bytes([row(f"Org {n}") for n in range(imports.MAX_ROWS + 1)])
    assert "more than 5,000 rows" in upload(client, long).content.decode()
    assert not Organisation.objects.filter(name="Org 1").exists()


LABELS = st.sampled_from(["acme", "careers", "co", "uk", "com", "jobs", "example", "org"])
DOMAINS = st.lists(LABELS, min_size=1, max_size=4).map(".".join)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    existing=st.lists(st.tuples(DOMAINS, st.sets(DOMAINS, max_size=3)), max_size=8),
    website=DOMAINS,
    emails=st.lists(DOMAINS, max_size=3),
)
def test_the_domain_index_finds_what_a_full_scan_finds(existing, website, emails):
    rows = [(pk, f"Org {pk}", f"org {pk}", web) for pk, (web, _) in enumerate(existing, 1)]
    email_domains = {pk: mails for pk, (_, mails) in enumerate(existing, 1)}
    finder = DuplicateFinder(rows, email_domains)
    found = finder.find(name="zzz", website=website, emails=[f"x@{d}" for d in emails], limit=99)
    wanted = {d for d in emails if not is_free_mail(d)} | {website}
    expected = set()
    for pk, web, _key, _name in ((r[0], r[3], r[2], r[1]) for r in rows):
        if domains_match(website, web) or any(
            domains_match(d, mine) for d in wanted for mine in email_domains[pk]
        ):
            expected.add(pk)
    assert {c.organisation_id for c in found} == expected


@pytest.mark.django_db(transaction=True)
def test_a_large_import_is_written_by_the_worker_and_only_its_uploader_follows_it(
    client, persona, run_worker, monkeypatch, tmp_path
):
    monkeypatch.setattr(imports, "INLINE_LIMIT", 0)
    operator = persona("operator")
    client.force_login(operator)
    response = upload(client, csv_bytes(GOOD))
    queued = confirm(client, response)
    assert queued.status_code == 302
    status_url = queued["Location"]
    assert "Importing organisations.csv" in client.get(status_url).content.decode()
    assert not Organisation.objects.filter(name="Skipton Bakeries").exists()

    client.force_login(persona("manager"))
    assert client.get(status_url).status_code == 404

    run_worker()
    client.force_login(operator)
    page = client.get(status_url).content.decode()
    assert "organisations.csv is imported" in page
    assert "3 organisations created" in page
    assert Organisation.objects.get(name="Wharfedale Robotics Ltd").contacts.count() == 2
    assert AuditEntry.objects.filter(action="organisations.organisation.imported").count() == 1
    assert not list((tmp_path / "imports").iterdir())


@pytest.mark.django_db
def test_the_worker_writes_nothing_if_mycareer_changed_after_the_confirmation(operator):
    data = csv_bytes(GOOD)
    plan = imports.plan_import(data=data, filename="late.csv")
    token = imports.store_upload(data=data, filename="late.csv", user=operator, plan=plan)
    pending = imports.load_upload(token=token, user=operator)
    services.organisation_create(by=operator, name="Ilkley Lido Trust", confirm_duplicates=True)
    before = state()
    outcome = imports.run_pending(
        user_id=operator.pk,
        file=pending.file,
        filename=pending.filename,
        fingerprint=pending.fingerprint,
        create_anyway=[],
    )
    assert outcome["ok"] is False
    assert "changed since you checked this file" in outcome["error"]
    assert state() == before
    with pytest.raises(imports.ImportFileError):
        imports.load_upload(token=token, user=operator)


@pytest.mark.django_db
def test_a_second_confirmation_of_the_same_file_writes_nothing_more(operator):
    # As when a double click sends two confirmations that both read the file first.
    data = csv_bytes(GOOD)
    plan = imports.plan_import(data=data, filename="twice.csv")
    token = imports.store_upload(data=data, filename="twice.csv", user=operator, plan=plan)
    first = imports.load_upload(token=token, user=operator)
    second = imports.load_upload(token=token, user=operator)
    imports.import_confirmed(pending=first, by=operator)
    after = state()
    with pytest.raises(imports.PlanChanged):
        imports.import_confirmed(pending=second, by=operator)
    assert state() == after
    assert Organisation.objects.filter(name="Skipton Bakeries").count() == 1


# Files that claim or hold far more than they should -------------------------------------


def crafted_workbook(*, dimension: str, extra_rows: str = "") -> bytes:
    """A small real workbook whose sheet claims `dimension` and holds `extra_rows` too."""
    import zipfile

    workbook = Workbook()
    workbook.active.append(["Organisation name", "Contact name"])
    workbook.active.append(["Bombe Ltd", "Ada Lovelace"])
    plain = io.BytesIO()
    workbook.save(plain)
    crafted = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source,
        zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text = text.replace('<dimension ref="A1:B2" />', f'<dimension ref="{dimension}" />')
                text = text.replace("</sheetData>", f"{extra_rows}</sheetData>")
                content = text.encode()
            target.writestr(item, content)
    return crafted.getvalue()


@pytest.mark.django_db
def test_a_workbook_claiming_every_cell_of_the_sheet_is_read_as_what_it_holds(operator):
    # 1.5 KB claiming A1:XFD1048576: the reader ignores the claim, so memory stays small.
    data = crafted_workbook(dimension="A1:XFD1048576")
    assert len(data) < 8 * 1024
    plan = imports.plan_import(data=data, filename="claims.xlsx")
    assert plan.row_count == 1
    assert plan.groups[0].name == "Bombe Ltd"


@pytest.mark.django_db
def test_a_workbook_with_a_cell_a_million_rows_down_is_refused_clearly(client, operator):
    data = crafted_workbook(
        dimension="A1:XFD1048576", extra_rows='<row r="1048576"><c r="A1048576" /></row>'
    )
    client.force_login(operator)
    response = upload(client, data, name="million.xlsx")
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["file"])
    assert "more than 10,000 rows, blank ones included" in errors
    assert "Delete the empty rows" in errors


@pytest.mark.django_db
def test_a_workbook_with_values_in_the_last_column_is_refused_clearly(operator):
    data = crafted_workbook(
        dimension="A1:XFD3",
        extra_rows='<row r="3"><c r="XFD3" t="inlineStr"><is><t>far</t></is></c></row>',
    )
    with pytest.raises(imports.ImportFileError, match="values beyond column 40"):
        imports.plan_import(data=data, filename="wide.xlsx")


@pytest.mark.django_db
def test_a_csv_with_thousands_of_columns_is_refused_clearly(operator):
    data = b"Organisation name\nWide Ltd" + b"," * 5000 + b"x\n"
    with pytest.raises(imports.ImportFileError, match="values beyond column 40"):
        imports.plan_import(data=data, filename="wide.csv")


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_checked_by_the_worker_never_in_the_request(
    client, persona, run_worker, monkeypatch, tmp_path
):
    monkeypatch.setattr(imports, "INLINE_CHECK_BYTES", 100)
    planned = []
    real_plan = imports.plan_import
    monkeypatch.setattr(
        imports, "plan_import", lambda **kw: planned.append(kw["filename"]) or real_plan(**kw)
    )
    operator = persona("operator")
    client.force_login(operator)
    response = upload(client, csv_bytes(GOOD), name="large.csv")
    assert response.status_code == 302
    checking_url = response["Location"]
    assert planned == []  # the request only stored the file and queued the check
    assert "Checking large.csv" in client.get(checking_url).content.decode()
    client.force_login(persona("manager"))
    assert client.get(checking_url).status_code == 404

    run_worker()
    assert planned == ["large.csv"]
    client.force_login(operator)
    check = client.get(checking_url)
    assert check.context["counts"]["create"] == 3
    queued = confirm(client, check)  # large: the worker checks it again and writes it
    assert queued.status_code == 302 and "/import/" in queued["Location"]
    assert planned == ["large.csv"]
    run_worker()
    assert Organisation.objects.get(name="Wharfedale Robotics Ltd").contacts.count() == 2
    assert "large.csv is imported" in client.get(queued["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_large_file_the_worker_cannot_read_is_refused_with_its_reasons(
    client, persona, run_worker, monkeypatch
):
    monkeypatch.setattr(imports, "INLINE_CHECK_WORKBOOK_BYTES", 100)
    client.force_login(persona("operator"))
    data = crafted_workbook(
        dimension="A1:XFD1048576", extra_rows='<row r="1048576"><c r="A1048576" /></row>'
    )
    response = upload(client, data, name="million.xlsx")
    run_worker()
    page = client.get(response["Location"]).content.decode()
    assert "million.xlsx: This file has more than 10,000 rows, blank ones included" in page


@pytest.mark.django_db
def test_locations_written_another_way_are_kept_tidy_and_are_no_change(operator):
    """As the profile keeps them: a file's 'Leeds,, London ,' fills a blank field as
    'Leeds, London', and 'Leeds,London' over it is the same, not a value that stays."""
    org = services.organisation_create(by=operator, name="Otley Ovens", confirm_duplicates=True)
    plan = imports.plan_import(
        data=csv_bytes([row("Otley Ovens", locations="Leeds,, London ,")]), filename="x.csv"
    )
    imports.import_apply(plan=plan, by=operator)
    org.refresh_from_db()
    assert org.locations == "Leeds, London"
    again = imports.plan_import(
        data=csv_bytes([row("Otley Ovens", locations="Leeds,London")]), filename="x.csv"
    )
    assert [(g.outcome, g.notes) for g in again.groups] == [(Outcome.UNCHANGED, [])]
    # Kept untidily before locations were tidied: the same places are still no change.
    Organisation.objects.filter(pk=org.pk).update(locations="Leeds,London")
    again = imports.plan_import(
        data=csv_bytes([row("Otley Ovens", locations="Leeds, London")]), filename="x.csv"
    )
    assert [(g.outcome, g.notes) for g in again.groups] == [(Outcome.UNCHANGED, [])]
