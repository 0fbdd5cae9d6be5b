import csv
import datetime
import io
import random
import re
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taggit.models import Tag

from mycareer.accounts.models import Unit
from mycareer.audit.models import AuditEntry
from mycareer.organisations import services
from mycareer.organisations.models import (
    Organisation,
    OrganisationScore,
    OrganisationText,
    SavedSearch,
    Sector,
    tag_token,
)
from mycareer.organisations.search import (
    FTS_TABLE,
    ROWS_AT_ONCE,
    OrganisationQuery,
    OrganisationSearchForm,
    describe_query,
    filter_by_text,
    kept_count_of,
    organisation_rows,
    search_organisations,
)
from mycareer.organisations.search_index import repair_sqlite_search_index
from mycareer.organisations.tests.factories import OrganisationFactory, make_organisation

SEARCH = reverse("organisations:search")
EXPORT = reverse("organisations:export")
TODAY = timezone.localdate()


@pytest.fixture
def operator(persona):
    return persona("operator")


def make(name, by, **fields):
    return services.organisation_create(by=by, name=name, confirm_duplicates=True, **fields)


def engaged(org, by, days_ago):
    services.note_create(
        organisation=org, by=by, text="Met", date=TODAY - datetime.timedelta(days=days_ago)
    )


def names(query: OrganisationQuery) -> list[str]:
    return [o.name for o in search_organisations(query)]


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


@pytest.fixture
def spread(operator):
    """Six organisations with distinctive tags ('Qx …'), so demo data never matches them."""
    sector = {s.slug: s for s in Sector.objects.all()}
    orgs = {
        "Alder": make(
            "Alder Robotics",
            operator,
            tags=["Qx Placements", "Qx Robotics"],
            sector=sector["engineering-and-manufacturing"],
            size="large",
            locations="Leeds, York",
            unit=unit("mech"),
        ),
        "Birch": make(
            "Birch Software",
            operator,
            tags=["Qx Placements", "Qx Software"],
            sector=sector["technology-and-software"],
            size="small",
            locations="Leeds",
            unit=unit("computing"),
        ),
        "Cedar": make(
            "Cedar Engineering",
            operator,
            tags=["Qx Placements", "Qx Robotics", "Qx Software"],
            sector=sector["engineering-and-manufacturing"],
            size="large",
            locations="Sheffield",
            unit=unit("mech-design"),
        ),
        "Damson": make(
            "Damson Bank",
            operator,
            tags=["Qx Finance"],
            sector=sector["finance-and-accounting"],
            size="enterprise",
            locations="London, Leeds",
            unit=unit("accounting"),
        ),
        "Elder": make(
            "Elder Arts Trust",
            operator,
            tags=["Qx Arts", "Qx Placements"],
            sector=sector["creative-arts-and-media"],
            size="micro",
            locations="York",
            unit=unit("music"),
        ),
        "Fir": make("Fir Consulting", operator, tags=["Qx Finance", "Qx Software"]),
    }
    engaged(orgs["Alder"], operator, 10)
    engaged(orgs["Birch"], operator, 200)
    engaged(orgs["Cedar"], operator, 40)
    engaged(orgs["Damson"], operator, 400)
    return orgs


QX = ("Qx Placements", "Qx Robotics", "Qx Software", "Qx Finance", "Qx Arts")


def qx(**filters) -> OrganisationQuery:
    """A query limited to the spread's organisations (they all have a Qx tag)."""
    return OrganisationQuery(tags_any=filters.pop("tags_any", QX), **filters)


# Filters -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_combined_filters_return_exactly_the_expected_organisations(spread):
    query = OrganisationQuery(
        tags_all=("Qx Placements",),
        tags_none=("Qx Software",),
        sectors=(spread["Alder"].sector_id,),
        sizes=("large",),
        location="leeds",
        unit=unit("eps").pk,
        engaged_after=TODAY - datetime.timedelta(days=30),
    )
    assert names(query) == ["Alder Robotics"]


@pytest.mark.django_db
def test_all_of_any_of_and_none_of_tags(spread):
    assert names(qx(tags_all=("Qx Placements", "Qx Robotics"))) == [
        "Alder Robotics",
        "Cedar Engineering",
    ]
    assert names(OrganisationQuery(tags_any=("Qx Arts", "Qx Finance"))) == [
        "Damson Bank",
        "Elder Arts Trust",
        "Fir Consulting",
    ]
    assert names(qx(tags_none=("Qx Placements", "Qx Finance"))) == []
    assert names(qx(tags_none=("Qx Software",))) == [
        "Alder Robotics",
        "Damson Bank",
        "Elder Arts Trust",
    ]


@pytest.mark.django_db
def test_tag_names_match_whatever_their_case(spread):
    assert names(qx(tags_all=("qx ROBOTICS",))) == ["Alder Robotics", "Cedar Engineering"]
    assert names(OrganisationQuery(tags_any=("QX ARTS",))) == ["Elder Arts Trust"]


@pytest.mark.django_db
def test_a_unit_includes_its_schools_and_departments(spread):
    assert names(qx(unit=unit("eps").pk)) == [
        "Alder Robotics",
        "Birch Software",
        "Cedar Engineering",
    ]
    assert names(qx(unit=unit("mech").pk)) == ["Alder Robotics", "Cedar Engineering"]
    assert names(qx(unit=unit("mech-design").pk)) == ["Cedar Engineering"]
    assert names(qx(unit=unit("business").pk)) == ["Damson Bank"]


@pytest.mark.django_db
def test_last_engagement_dates_are_inclusive_and_never_engaged_is_left_out(spread):
    day = TODAY - datetime.timedelta(days=40)
    assert names(qx(engaged_after=day)) == ["Alder Robotics", "Cedar Engineering"]
    assert names(qx(engaged_before=day)) == [
        "Birch Software",
        "Cedar Engineering",
        "Damson Bank",
    ]
    assert names(
        qx(
            engaged_after=TODAY - datetime.timedelta(days=300),
            engaged_before=TODAY - datetime.timedelta(days=100),
        )
    ) == ["Birch Software"]


@pytest.mark.django_db
def test_sorting_by_name_and_by_last_engagement(spread, operator):
    make("alpine lowercase", operator, tags=["Qx Arts"])
    assert names(qx()) == [
        "Alder Robotics",
        "alpine lowercase",
        "Birch Software",
        "Cedar Engineering",
        "Damson Bank",
        "Elder Arts Trust",
        "Fir Consulting",
    ]
    # Most recent first, never engaged last (by name); least recent puts them first.
    assert names(qx(sort="-last_engaged")) == [
        "Alder Robotics",
        "Cedar Engineering",
        "Birch Software",
        "Damson Bank",
        "alpine lowercase",
        "Elder Arts Trust",
        "Fir Consulting",
    ]
    assert names(qx(sort="last_engaged")) == [
        "alpine lowercase",
        "Elder Arts Trust",
        "Fir Consulting",
        "Damson Bank",
        "Birch Software",
        "Cedar Engineering",
        "Alder Robotics",
    ]


@pytest.mark.django_db
def test_archived_only_on_request_and_merged_records_never(spread, operator, persona):
    services.organisation_archive(organisation=spread["Elder"], by=persona("manager"))
    services.organisation_merge(survivor=spread["Birch"], other=spread["Fir"], keep={}, by=operator)
    assert "Elder Arts Trust" not in names(qx())
    assert "Elder Arts Trust" in names(qx(include_archived=True))
    assert "Fir Consulting" not in names(qx(include_archived=True))


@pytest.mark.django_db
def test_a_record_merged_away_keeps_no_search_text_of_the_contacts_it_had(operator):
    """Its contacts moved or were folded into the survivor's: the stub's search text still
    named them, and erasing one of them later cleaned only the survivor's."""
    survivor, other = make("Tamsin Rope Ltd", operator), make("Tamsin Rope Limited", operator)
    services.contact_create(
        organisation=survivor, by=operator, full_name="Ola Brennock", email="ola@rope.example"
    )
    for name, email in (("Ola Brennock-Vale", "OLA@rope.example"), ("Kit Marrow", "")):
        services.contact_create(organisation=other, by=operator, full_name=name, email=email)
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)
    other.refresh_from_db()
    assert other.search_document == "tamsin rope limited"
    assert OrganisationText.objects.get(organisation=other).document == "tamsin rope limited"


@pytest.mark.django_db
def test_records_merged_away_before_forget_their_contacts_search_text(operator):
    from importlib import import_module

    from django.apps import apps

    migration = import_module(
        "mycareer.organisations.migrations.0025_merged_away_records_forget_their_contacts_search_text"
    )
    survivor, other = make("Tamsin Rope Ltd", operator), make("Tamsin Rope Limited", operator)
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)
    # As a merge left it before: the stub's text named the contacts it had then.
    stale = "tamsin rope limited ola brennock-vale"
    Organisation.objects.filter(pk=other.pk).update(search_document=stale)
    Organisation.objects.filter(pk=survivor.pk).update(search_document="tamsin rope ltd kit")
    migration.rebuild_stub_documents(apps, SimpleNamespace(connection=connection))
    documents = dict(Organisation.objects.values_list("pk", "search_document"))
    assert documents[other.pk] == "tamsin rope limited"
    assert OrganisationText.objects.get(organisation=other).document == "tamsin rope limited"
    assert documents[survivor.pk] == "tamsin rope ltd kit"  # live records are not stubs


# Free text ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_text_index_reads_as_each_organisation_s_document_on_either_database(operator):
    """SQLite's index, or PostgreSQL's view of the same name: code that reads every
    model's table (a data dump) finds the documents, not a missing table."""
    org = make("Northbridge Engineering Ltd", operator)
    org.refresh_from_db()
    assert OrganisationText.objects.get(organisation=org).document == org.search_document
    assert "northbridge" in org.search_document


@pytest.mark.django_db
def test_text_search_finds_parts_of_words_through_the_database_s_own_index(spread, operator):
    make("Northbridge Engineering Ltd", operator)
    results = search_organisations(OrganisationQuery(text="ridge"))
    assert "Northbridge Engineering Ltd" in [o.name for o in results]
    if connection.vendor == "sqlite":
        # Joined, so the index leads and a bounded count stops reading it at its bound.
        assert f'INNER JOIN "{FTS_TABLE}"' in str(results.query)
        with connection.cursor() as cursor:
            sql, params = results.order_by().values("pk")[:10].query.sql_with_params()
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = [row[-1] for row in cursor.fetchall()]
        assert plan[0].startswith(f"SCAN {FTS_TABLE} VIRTUAL TABLE"), plan
    else:
        with connection.cursor() as cursor:
            # Few rows make a table scan cheaper; forbid it to see that the index serves.
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = filter_by_text(Organisation.objects.all(), "ridge").explain()
        assert "org_search_text_trgm_idx" in plan
    assert names(qx(text="irch")) == ["Birch Software"]


@pytest.mark.django_db
def test_text_search_ignores_case_on_both_sides(operator):
    make("Écoles Hautes Études", operator, description="Teacher TRAINING")
    org = make("NORTHBRIDGE Ltd", operator)
    org.refresh_from_db()
    # Kept in lower case, so each candidate is compared as it is.
    assert org.search_document == "northbridge ltd"
    for text in ("ridge", "RIDGE", "RiDgE", "nOrThBrIdGe lTd", "LT"):
        assert "NORTHBRIDGE Ltd" in names(OrganisationQuery(text=text)), text
    for text in ("écoles", "ÉCOLES", "ÉTUDES training", "ÉT"):
        assert names(OrganisationQuery(text=text)) == ["Écoles Hautes Études"], text


@pytest.mark.django_db
def test_documents_written_before_they_were_kept_in_lower_case_are_lower_cased():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("mycareer.organisations.migrations.0013_search_document_lower_case")
    mixed = OrganisationFactory(name="Mixed Case")
    Organisation.objects.filter(pk=mixed.pk).update(search_document="Mixed Case ÉTUDES")
    lower = OrganisationFactory(name="already lower")
    Organisation.objects.filter(pk=lower.pk).update(search_document="already lower")
    migration.lower_case_documents(apps, SimpleNamespace(connection=connection))
    documents = dict(Organisation.objects.values_list("name", "search_document"))
    assert documents["Mixed Case"] == "mixed case études"
    assert documents["already lower"] == "already lower"
    assert names(OrganisationQuery(text="études")) == ["Mixed Case"]


@pytest.mark.django_db
def test_text_search_covers_name_description_and_contact_names(spread, operator):
    org = spread["Alder"]
    services.organisation_update(
        organisation=org, by=operator, description="Autonomous warehouse machines"
    )
    services.contact_create(organisation=org, by=operator, full_name="Xanthe Quarrington")
    assert names(qx(text="robot")) == ["Alder Robotics"]
    assert names(qx(text="WAREHOUSE")) == ["Alder Robotics"]
    assert names(OrganisationQuery(text="arringt")) == ["Alder Robotics"]
    # Every word must appear, anywhere, in any order.
    assert names(OrganisationQuery(text="quarrington alder")) == ["Alder Robotics"]
    assert names(OrganisationQuery(text="quarrington birch")) == []


@pytest.mark.django_db
def test_text_search_follows_changes_and_deletions(spread, operator, persona):
    org = spread["Alder"]
    services.organisation_update(organisation=org, by=operator, name="Zebulon Automation")
    assert names(OrganisationQuery(text="zebulon")) == ["Zebulon Automation"]
    assert names(qx(text="alder")) == []
    services.organisation_delete(organisation=org, by=persona("manager"))
    assert names(OrganisationQuery(text="zebulon")) == []


@pytest.mark.django_db
def test_short_words_and_query_syntax_are_plain_text(spread):
    assert names(qx(text="Fi")) == ["Fir Consulting"]
    assert names(qx(text="fir c")) == ["Fir Consulting"]
    syntax = ['"', '"""', 'fir" OR "alder', "NEAR(fir alder)", "fir*", "a AND", "-fir", "^fir"]
    for text in syntax:
        assert names(qx(text=text)) == [], text


@pytest.mark.django_db
def test_the_index_triggers_come_back_after_a_table_rebuild(spread, operator):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # What Django's copy-the-table ALTER on SQLite leaves behind.
            cursor.execute("DROP TRIGGER organisations_organisation_fts_insert")
            cursor.execute("DROP TRIGGER organisations_organisation_fts_update")
        make("Quokka Logistics", operator)
        assert names(OrganisationQuery(text="quokka")) == []
        assert repair_sqlite_search_index() == [
            "organisations_organisation_fts_insert",
            "organisations_organisation_fts_update",
        ]
    else:
        # PostgreSQL's trigram indexes need no triggers: the repair has nothing to do.
        make("Quokka Logistics", operator)
        assert repair_sqlite_search_index() == []
    assert names(OrganisationQuery(text="quokka")) == ["Quokka Logistics"]
    assert repair_sqlite_search_index() == []


# The query and its form ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_query_survives_the_trip_through_a_query_string(spread):
    query = OrganisationQuery(
        text="robot arm",
        tags_all=("Qx Placements", "Qx R&D + more"),
        tags_any=("Qx Robotics",),
        tags_none=("Qx Finance",),
        sectors=(spread["Alder"].sector_id, spread["Birch"].sector_id),
        sizes=("small", "large"),
        location="Leeds",
        unit=unit("eps").pk,
        engaged_after=datetime.date(2026, 1, 1),
        engaged_before=datetime.date(2026, 6, 30),
        include_archived=True,
        sort="-last_engaged",
    )
    assert OrganisationQuery.from_querystring(query.to_querystring()) == query
    assert OrganisationQuery().to_querystring() == ""
    assert OrganisationQuery.from_querystring("") == OrganisationQuery()


@pytest.mark.django_db
def test_the_form_reads_comma_separated_tags_once_each(cast):
    form = OrganisationSearchForm(
        {"tags_all": " NHS ,  nhs, Graduate   recruiter,, ", "sizes": ["large"]}
    )
    assert form.is_valid(), form.errors
    query = form.to_query()
    assert query.tags_all == ("NHS", "Graduate recruiter")
    assert query.sizes == ("large",)
    assert all(field.label for field in form)


@pytest.mark.django_db
def test_a_tag_with_a_comma_is_searched_whole_by_form_link_and_stored_search(operator):
    civil = make_organisation("Qx Civil Works", by=operator, tags=["Qx Engineering, Civil"])
    make_organisation("Qx Loose Ends", by=operator, tags=["Qx Engineering", "Civil"])
    form = OrganisationSearchForm({"tags_all": '"Qx Engineering, Civil", "qx engineering, civil"'})
    assert form.is_valid(), form.errors
    query = form.to_query()
    assert query.tags_all == ("Qx Engineering, Civil",)
    assert list(search_organisations(query)) == [civil]
    # A link, a saved search and a campaign's stored filters read it back whole.
    assert OrganisationQuery.from_querystring(query.to_querystring()) == query
    stored = OrganisationQuery.from_filters({"tags_any": ["Qx Engineering, Civil", "Qx Arts"]})
    assert stored.tags_any == ("Qx Engineering, Civil", "Qx Arts")
    assert "“Qx Engineering, Civil” or Qx Arts" in describe_query(stored)
    # The field shows it as it reads it, so a search page sent again keeps it whole.
    shown = OrganisationSearchForm(initial={"tags_all": query.tags_all})["tags_all"].value()
    again = OrganisationSearchForm({"tags_all": shown})
    assert again.is_valid(), again.errors
    assert again.to_query().tags_all == query.tags_all


@pytest.mark.django_db
def test_the_form_refuses_dates_the_wrong_way_round_and_unknown_choices(cast):
    form = OrganisationSearchForm(
        {"engaged_after": "2026-05-01", "engaged_before": "2026-04-01", "sort": "evil"}
    )
    assert not form.is_valid()
    assert "engaged_before" in form.errors
    assert "sort" in form.errors
    with pytest.raises(ValidationError):
        OrganisationQuery.from_querystring("unit=999999")


# Saved searches ----------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_a_search_is_audited_and_names_are_unique_per_person(spread, operator, persona):
    query = qx(tags_all=("Qx Robotics",))
    saved = services.saved_search_create(owner=operator, name="  Robots  ", query=query)
    assert saved.name == "Robots"
    assert OrganisationQuery.from_querystring(saved.query) == query
    assert AuditEntry.objects.filter(
        action="organisations.saved_search.created", actor=operator, object_id=str(saved.pk)
    ).exists()
    with pytest.raises(ValidationError) as raised:
        services.saved_search_create(owner=operator, name="ROBOTS", query=qx(location="York"))
    assert "already have a saved search" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        services.saved_search_create(owner=operator, name="Everything", query=OrganisationQuery())
    assert "Choose at least one filter" in str(raised.value)
    # Someone else may use the same name.
    services.saved_search_create(owner=persona("manager"), name="Robots", query=query)
    with pytest.raises(PermissionDenied):
        services.saved_search_delete(saved_search=saved, by=persona("manager"))


@pytest.mark.django_db
def test_a_saved_search_is_saved_and_rerun_from_the_page(client, spread, operator):
    client.force_login(operator)
    querystring = qx(tags_all=("Qx Robotics",), sort="-last_engaged").to_querystring()
    response = client.post(
        reverse("organisations:saved_search_create"),
        {"name": "Robot makers", "query": querystring},
    )
    saved = SavedSearch.objects.get(owner=operator, name="Robot makers")
    assert response.status_code == 302
    assert response["Location"] == saved.get_absolute_url()
    page = client.get(response["Location"])
    assert [o.name for o in page.context["page"]] == ["Alder Robotics", "Cedar Engineering"]
    assert "Robot makers" in page.content.decode()


@pytest.mark.django_db
def test_a_taken_name_is_a_message_on_the_form_not_an_error_page(client, spread, operator):
    client.force_login(operator)
    services.saved_search_create(owner=operator, name="Robot makers", query=qx())
    response = client.post(
        reverse("organisations:saved_search_create"),
        {"name": "robot makers", "query": qx(location="York").to_querystring()},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "You already have a saved search called “Robot makers”" in page
    # What was typed is kept, and the results of the search being saved are shown.
    assert 'value="robot makers"' in page
    assert [o.name for o in response.context["page"]] == ["Alder Robotics", "Elder Arts Trust"]
    assert SavedSearch.objects.filter(owner=operator).count() == 1


@pytest.mark.django_db
def test_people_see_and_delete_only_their_own_saved_searches(client, operator, persona):
    query = OrganisationQuery(text="bridge")
    mine = services.saved_search_create(owner=operator, name="Mine", query=query)
    theirs = services.saved_search_create(owner=persona("manager"), name="Theirs", query=query)
    client.force_login(operator)
    page = client.get(SEARCH).content.decode()
    assert "Mine" in page
    assert "Theirs" not in page
    url = reverse("organisations:saved_search_delete", args=[theirs.pk])
    assert client.post(url).status_code == 404
    assert SavedSearch.objects.filter(pk=theirs.pk).exists()
    url = reverse("organisations:saved_search_delete", args=[mine.pk])
    assert client.post(url).status_code == 302
    assert not SavedSearch.objects.filter(pk=mine.pk).exists()
    assert AuditEntry.objects.filter(action="organisations.saved_search.deleted").count() == 1


# The page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_exactly_what_the_combined_filters_match(client, spread, operator):
    client.force_login(operator)
    response = client.get(
        SEARCH,
        {
            "tags_any": "qx robotics, QX FINANCE",
            "tags_none": "Qx Software",
            "location": "Leeds",
            "sort": "-last_engaged",
        },
    )
    assert response.status_code == 200
    assert [o.name for o in response.context["page"]] == ["Alder Robotics", "Damson Bank"]
    page = response.content.decode()
    assert "<strong>2</strong> organisations found" in page
    assert f'href="{spread["Alder"].get_absolute_url()}"' in page
    assert 'class="responsive"' in page
    assert 'data-label="Last engagement"' in page
    assert 'role="search"' in page
    assert "Export 2 organisations (CSV)" in page


def test_a_search_that_finds_nothing_says_so_and_does_not_blame_the_filters(
    client, spread, operator
):
    client.force_login(operator)
    page = client.get(SEARCH, {"text": "Zzyzx"}).content.decode()
    assert "<strong>0</strong> organisations found" in page
    assert "No organisation matches these filters." in page
    assert "Correct the filters" not in page
    assert "(CSV)" not in page


@pytest.mark.django_db
def test_bad_filters_are_explained_and_kept(client, operator):
    client.force_login(operator)
    response = client.get(
        SEARCH, {"text": "kept words", "engaged_after": "2026-05-01", "engaged_before": "2026-04"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please correct what is shown below" in page
    assert 'value="kept words"' in page
    assert "page" not in response.context


@pytest.mark.django_db
def test_pages_keep_the_filters(client, operator):
    for n in range(30):
        make(f"Paging Org {n:02d}", operator, tags=["Qx Paging"])
    client.force_login(operator)
    response = client.get(SEARCH, {"tags_all": "qx paging"})
    assert response.context["page"].paginator.count == 30
    assert "?tags_all=qx+paging&amp;page=2" in response.content.decode()
    second = client.get(SEARCH, {"tags_all": "qx paging", "page": 2})
    assert [o.name for o in second.context["page"]][0] == "Paging Org 25"


@pytest.mark.django_db
def test_the_page_query_count_does_not_grow_with_results(
    client, operator, persona, django_assert_max_num_queries
):
    from mycareer.organisations import keyaccounts

    admin = persona("admin")
    sectors = list(Sector.objects.all())
    for n in range(25):
        org = make(
            f"Counted Org {n:02d}",
            operator,
            tags=["Qx Counted", f"Qx Count {n}"] + (["Qx Few"] if n < 5 else []),
            sector=sectors[n % len(sectors)],
            unit=unit("mech"),
        )
        engaged(org, operator, n)
        # Every row has key accounts, the first five two each (given out of unit order).
        for code in ("mech", "computing") if n < 5 else ("mech",):
            keyaccounts.key_account_create(
                organisation=org, operator=operator, unit=unit(code), by=admin
            )
    client.force_login(operator)
    client.get(SEARCH)  # the session and access checks settle on the first request
    counts = []
    for tag, expected in (("Qx Few", 5), ("Qx Counted", 25)):
        # The benchmark's budget for a list page is ten queries (docs/benchmarks.md); a
        # page's ids come first, then its rows with their tags and key accounts.
        with django_assert_max_num_queries(9) as captured:
            response = client.get(SEARCH, {"tags_all": tag})
        assert len(response.context["page"]) == expected
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    first = response.context["page"][0]
    assert first.tag_name_list == ["Qx Count 0", "Qx Counted", "Qx Few"]
    assert first.key_account_names == [
        ("School of Computing", str(operator)),
        ("School of Mechanical Engineering", str(operator)),
    ]
    assert (
        f"{operator} (School of Computing); {operator} (School of Mechanical Engineering)"
        in response.content.decode()
    )


# Export ------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_export_sends_every_matching_row_and_is_audited_once(client, spread, operator):
    services.contact_create(organisation=spread["Alder"], by=operator, full_name="Ann Example")
    services.contact_create(organisation=spread["Alder"], by=operator, full_name="Bo Example")
    services.organisation_update(
        organisation=spread["Cedar"], by=operator, name="=HYPERLINK(1) Cedar"
    )
    client.force_login(operator)
    response = client.get(EXPORT, {"tags_all": "Qx Robotics"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    # The header; then, by name, Cedar's new name (sorted first) and Alder.
    assert rows[0] == [
        "Name",
        "Website",
        "Sector",
        "Size",
        "Locations",
        "Owning unit",
        "Tags",
        "Last engaged",
        "Contacts",
        "Key accounts",
        "Key contacts",
        "Engagement score",
        "Score computed at",
    ]
    # A spreadsheet must not run a name as a formula.
    assert rows[1][0] == "'=HYPERLINK(1) Cedar"
    assert rows[2] == [
        "Alder Robotics",
        "",
        "Engineering and manufacturing",
        "Large (250–999)",
        "Leeds, York",
        "School of Mechanical Engineering",
        "Qx Placements; Qx Robotics",  # the import's separator: the file imports back
        (TODAY - datetime.timedelta(days=10)).isoformat(),
        "2",
        "",
        "",
        "",  # not scored yet: the nightly scores have not run
        "",
    ]
    assert len(rows) == 3
    entries = AuditEntry.objects.filter(action="organisations.organisation.exported")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.actor == operator
    assert entry.data == {"query": "tags_all=Qx+Robotics", "rows": 2}


@pytest.mark.django_db
def test_only_staff_may_export(client, persona, spread):
    for name in ("student", "employer"):
        client.force_login(persona(name))
        assert client.get(EXPORT).status_code == 403
        assert client.get(SEARCH).status_code == 403
    client.force_login(persona("operator"))
    # Filters that do not make sense go back to the page that explains them.
    response = client.get(EXPORT, {"engaged_after": "2026-05-01", "engaged_before": "2026-01-01"})
    assert response.status_code == 302
    assert response["Location"].startswith(SEARCH + "?")
    client.logout()
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not AuditEntry.objects.filter(action="organisations.organisation.exported").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{}, {"tags_any": ""}, {"text": " "}, {"sort": "name"}], ids=str)
def test_an_export_with_no_filter_is_refused_not_every_organisation(
    client, spread, operator, params
):
    """`/organisations/export.csv` with nothing in its filters exported every organisation,
    key contacts' names and all, behind a button that said only "Export CSV"."""
    client.force_login(operator)
    response = client.get(EXPORT, params)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Choose at least one filter before exporting" in text
    assert not AuditEntry.objects.filter(action="organisations.organisation.exported").exists()


@pytest.mark.django_db
def test_export_refuses_empty_filters_and_every_organisation_is_for_administrators(
    spread, operator, persona
):
    with pytest.raises(ValidationError) as refused:
        services.organisations_export(query=OrganisationQuery(), by=operator)
    assert refused.value.code == "no_filter"
    # Filters that narrow nothing are no filter at all.
    with pytest.raises(ValidationError) as refused:
        services.organisations_export(query=OrganisationQuery(include_archived=True), by=operator)
    assert refused.value.code == "every_organisation"
    with pytest.raises(PermissionDenied, match="Only administrators may export every"):
        services.organisations_export(query=OrganisationQuery(), by=operator, every=True)
    admin = persona("admin")
    with pytest.raises(ValidationError) as refused:
        services.organisations_export(
            query=OrganisationQuery(tags_all=("Qx Robotics",)), by=admin, every=True
        )
    assert refused.value.code == "both"
    assert not AuditEntry.objects.filter(action="organisations.organisation.exported").exists()

    rows = list(services.organisations_export(query=OrganisationQuery(), by=admin, every=True))
    live = Organisation.objects.filter(status=Organisation.Status.ACTIVE).count()
    assert len(rows) == 1 + live
    entry = AuditEntry.objects.get(action="organisations.organisation.exported")
    assert entry.actor == admin
    assert entry.data == {"query": "", "rows": live, "every": True}


@pytest.mark.django_db
def test_an_export_by_a_score_or_date_that_narrows_nothing_is_refused_by_name(
    client, spread, operator, caplog
):
    """ "Engagement score at least 0" exported every scored organisation, although the same
    search is refused as a choice of bulk email's recipients."""
    client.force_login(operator)
    with caplog.at_level("INFO", logger="mycareer.organisations.services"):
        response = client.get(EXPORT, {"score_min": "0", "engaged_after": "1999-01-01"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "“Engagement score at least 0” chooses every scored organisation" in text
    assert "chooses every organisation with an engagement" in text
    assert 'value="0"' in text  # the filters stay as typed
    assert "reason=narrows_nothing" in caplog.text
    assert not AuditEntry.objects.filter(action="organisations.organisation.exported").exists()
    assert client.get(EXPORT, {"score_min": "1"}).status_code == 200


@pytest.mark.django_db
def test_an_administrator_refused_a_search_of_everything_is_told_how_to_export_it(
    client, spread, operator, persona
):
    """An administrator whose filters narrowed nothing was told that "only an
    administrator may export every organisation", which gave them no way on."""
    query = OrganisationQuery(include_archived=True)
    with pytest.raises(ValidationError) as refused:
        services.organisations_export(query=query, by=persona("admin"))
    text = refused.value.messages[0]
    assert "clear the filters and choose “Export every organisation”" in text
    assert "only an administrator may" not in text
    with pytest.raises(ValidationError) as refused:
        services.organisations_export(query=query, by=operator)
    assert "only an administrator may export every organisation" in refused.value.messages[0]


@pytest.mark.django_db
def test_the_export_button_says_how_many_and_every_organisation_is_a_choice(
    client, spread, operator, persona
):
    client.force_login(operator)
    text = client.get(SEARCH, {"tags_all": "Qx Robotics"}).content.decode()
    assert "Export 2 organisations (CSV)</a>" in text
    # No filter: an operator is told to choose one, and offered no export.
    text = client.get(SEARCH).content.decode()
    assert EXPORT not in text
    assert "To export, choose at least one filter" in text
    client.force_login(persona("admin"))
    text = client.get(SEARCH).content.decode()
    live = Organisation.objects.filter(status=Organisation.Status.ACTIVE).count()
    assert f'href="{EXPORT}?every=1">Export every organisation: {live} (CSV)</a>' in text
    response = client.get(EXPORT, {"every": "1"})
    assert response.status_code == 200
    assert len(read_csv(response)) == 1 + live
    entry = AuditEntry.objects.get(action="organisations.organisation.exported")
    assert entry.data["every"] is True


# Property: the tag filters are set logic ---------------------------------------------

POOL = ["Hq Alpha", "Hq Beta", "Hq Gamma", "Hq Delta", "Hq Epsilon", "Hq Zeta", "Hq Eta", "Hq Iota"]


@pytest.fixture
def tagged_pool(operator) -> dict[int, set[str]]:
    """Fifteen organisations with random (but fixed) tags from the pool."""
    rng = random.Random(2026)
    tags_by_org = {}
    for n in range(15):
        tags = rng.sample(POOL, rng.randint(0, 4))
        org = make(f"Pool Org {n}", operator, tags=tags)
        tags_by_org[org.pk] = {tag.lower() for tag in tags}
    return tags_by_org


# Tag names as people type them: any case.
tag_names = st.sampled_from(POOL).flatmap(
    lambda tag: st.sampled_from([tag, tag.lower(), tag.upper(), tag.swapcase()])
)
tag_lists = st.lists(tag_names, max_size=3).map(tuple)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(all_of=tag_lists, any_of=tag_lists, none_of=tag_lists)
def test_tag_filters_agree_with_set_logic(tagged_pool, all_of, any_of, none_of):
    query = OrganisationQuery(tags_all=all_of, tags_any=any_of, tags_none=none_of)
    found = set(search_organisations(query).filter(pk__in=tagged_pool).values_list("pk", flat=True))
    # The form a page of many matches is read in finds the same, in the same order.
    in_order = search_organisations(query, in_name_order=True).filter(pk__in=tagged_pool)
    assert list(in_order.values_list("pk", flat=True)) == list(
        search_organisations(query).filter(pk__in=tagged_pool).values_list("pk", flat=True)
    )
    want_all = {t.lower() for t in all_of}
    want_any = {t.lower() for t in any_of}
    refuse = {t.lower() for t in none_of}
    expected = {
        pk
        for pk, tags in tagged_pool.items()
        if want_all <= tags and (not want_any or want_any & tags) and not refuse & tags
    }
    assert found == expected


@pytest.mark.django_db
def test_a_filter_the_search_does_not_know_is_refused_not_ignored(client, persona):
    """`?any_tags=…` (a mistyped `tags_any`) listed every organisation, offered to export
    "all 42 results" and to email their contacts, as if no filter had been given."""
    client.force_login(persona("operator"))
    page = client.get(reverse("organisations:search"), {"any_tags": "Graduate recruiter"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "The search has a filter it does not know: “any_tags”." in text
    assert "organisations found" not in text
    export = client.get(reverse("organisations:export"), {"any_tags": "Graduate recruiter"})
    assert export.status_code == 302
    assert not AuditEntry.objects.filter(action="organisations.organisation.exported").exists()
    # Paging and sorting are not filters.
    known = client.get(reverse("organisations:search"), {"tags_any": "Law fair", "page": "1"})
    assert "does not know" not in known.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["maybe", "2", "oui"])
def test_a_tick_box_given_neither_yes_nor_no_is_refused(client, persona, value):
    """`?include_archived=maybe` was taken for yes: archived organisations were listed."""
    client.force_login(persona("operator"))
    page = client.get(SEARCH, {"include_archived": value}).content.decode()
    assert f"“{value}” is not a yes or a no: tick the box or leave it empty." in page
    assert "organisations found" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "ticked"),
    [("on", True), ("true", True), ("1", True), ("Yes", True)]
    + [("", False), ("off", False), ("false", False), ("no", False), ("0", False)],
)
def test_a_tick_box_given_a_yes_or_a_no_means_it(client, persona, value, ticked):
    """`?include_archived=0` (and "no", "off") was taken for yes too."""
    operator = persona("operator")
    shelved = make("Qx Shelved Holdings", operator)
    services.organisation_archive(organisation=shelved, by=operator)
    client.force_login(operator)
    page = client.get(SEARCH, {"include_archived": value, "text": "Qx Shelved"}).content.decode()
    assert "is not a yes or a no" not in page
    assert ("Qx Shelved Holdings" in page) is ticked
    box = re.search(r'<input type="checkbox" name="include_archived"[^>]*>', page).group(0)
    assert (" checked" in box) is ticked


# Organisations chosen one by one -----------------------------------------------------


@pytest.mark.django_db
def test_organisations_chosen_one_by_one_are_exactly_those_chosen(spread):
    query = OrganisationQuery(ids=(spread["Alder"].pk, spread["Cedar"].pk))
    assert names(query) == ["Alder Robotics", "Cedar Engineering"]
    # With other filters, the chosen ones that also match them.
    assert names(OrganisationQuery(ids=query.ids, location="leeds")) == ["Alder Robotics"]


@pytest.mark.django_db
def test_a_chosen_selection_survives_storing_and_is_described_by_name(spread):
    query = OrganisationQuery(ids=(spread["Cedar"].pk, spread["Alder"].pk))
    stored = query.to_filters()
    chosen = tuple(sorted(query.ids))
    assert sorted(stored["ids"]) == list(chosen) and set(stored) == {"ids"}
    assert OrganisationQuery.from_filters(stored) == OrganisationQuery(ids=chosen)
    assert OrganisationQuery.from_querystring(query.to_querystring()).ids == chosen
    assert describe_query(query) == (
        "Organisations chosen one by one: Alder Robotics and Cedar Engineering"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad", [["x"], ["0"], ["-4"], ["99999999999999999999"], [str(n) for n in range(1, 1002)]]
)
def test_a_selection_that_is_not_organisation_numbers_is_refused(cast, bad):
    with pytest.raises(ValidationError):
        OrganisationQuery.from_filters({"ids": bad})


# The engagement score (kept by the insights app) ---------------------------------------


@pytest.mark.django_db
def test_the_engagement_score_filters_and_sorts_with_unscored_last(spread):
    for name, score in (("Alder", 80), ("Birch", 20), ("Cedar", 50)):
        OrganisationScore.objects.create(organisation=spread[name], score=score)
    assert names(qx(score_min=50)) == ["Alder Robotics", "Cedar Engineering"]
    assert names(qx(score_min=20, score_max=50)) == ["Birch Software", "Cedar Engineering"]
    ranked = [o.name for o in search_organisations(qx(sort="-engagement_score"))]
    assert ranked[:3] == ["Alder Robotics", "Cedar Engineering", "Birch Software"]
    assert all(
        o.engagement_score is None for o in search_organisations(qx(sort="-engagement_score"))[3:]
    )
    assert describe_query(OrganisationQuery(score_min=50)) == (
        "Organisations with an engagement score of at least 50"
    )
    query = qx(score_min=10, score_max=90, sort="-engagement_score")
    assert OrganisationQuery.from_querystring(query.to_querystring()) == query


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters", [{"score_min": "101"}, {"score_min": "-1"}, {"score_min": "60", "score_max": "40"}]
)
def test_an_engagement_score_out_of_range_is_refused(cast, filters):
    with pytest.raises(ValidationError):
        OrganisationQuery.from_filters(filters)


# Counting above the limit (docs/benchmarks.md, "The decision on counting") -----------


@pytest.fixture
def over_the_limit(settings, operator):
    """Four organisations tagged 'Qx Many', each with a contact, above a limit of three."""
    settings.MYCAREER = {**settings.MYCAREER, "EXACT_COUNT_LIMIT": 3}
    for n in range(4):
        org = make(f"Many Org {n}", operator, tags=["Qx Many"])
        services.contact_create(
            organisation=org, by=operator, full_name=f"Many Person {n}", email=f"m{n}@e.example"
        )
    for n in range(3):
        make(f"Few Org {n}", operator, tags=["Qx Few"])


@pytest.mark.django_db
def test_up_to_the_limit_the_page_says_the_exact_count(client, operator, over_the_limit):
    client.force_login(operator)
    response = client.get(SEARCH, {"tags_all": "Qx Few"})
    page = response.content.decode()
    assert "<strong>3</strong> organisations found for these filters." in page
    assert "Count exactly" not in page


@pytest.mark.django_db
def test_above_the_limit_the_page_says_more_than_and_offers_to_count(
    client, operator, over_the_limit
):
    client.force_login(operator)
    response = client.get(SEARCH, {"tags_any": "Qx Many"})
    page = response.content.decode()
    assert "<strong>More than 3</strong> organisations found for these filters." in page
    # A real button in a form that sends the same search back, asking for the count.
    form = page[page.index('<form method="get" class="count-exactly">') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="tags_any" value="Qx Many">' in form
    assert '<button type="submit" name="count" value="exact"' in form
    assert 'Count exactly<span class="visually-hidden"> how many organisations match' in form

    counted = client.get(SEARCH, {"tags_any": "Qx Many", "count": "exact"})
    assert counted.status_code == 200
    assert "<strong>4</strong> organisations found for these filters." in counted.content.decode()
    assert "Count exactly" not in counted.content.decode()
    # The figure is kept: the plain page (and its next page) says it without asking.
    again = client.get(SEARCH, {"tags_any": "Qx Many"})
    assert "<strong>4</strong> organisations found" in again.content.decode()


@pytest.mark.django_db
def test_pages_go_on_past_the_limit_without_a_count(client, operator, settings):
    settings.MYCAREER = {**settings.MYCAREER, "EXACT_COUNT_LIMIT": 30}
    for n in range(60):
        make(f"Long Org {n:02d}", operator, tags=["Qx Long"])
    client.force_login(operator)
    first = client.get(SEARCH, {"tags_any": "Qx Long"}).content.decode()
    assert "Page 1</span>" in first
    assert "?tags_any=Qx+Long&amp;page=2" in first
    third = client.get(SEARCH, {"tags_any": "Qx Long", "page": 3})
    assert [o.name for o in third.context["page"]] == [f"Long Org {n}" for n in range(50, 60)]
    body = third.content.decode()
    assert "?tags_any=Qx+Long&amp;page=2" in body
    assert "Next page" not in body
    assert re.search(r"<caption>\s*Organisations, [^<]*: page 3\s*</caption>", body)


@pytest.mark.django_db
def test_exports_and_bulk_email_read_every_match_above_the_limit(client, operator, over_the_limit):
    from mycareer.mailing.recipients import contacts_for

    client.force_login(operator)
    rows = read_csv(client.get(EXPORT, {"tags_all": "Qx Many"}))
    assert [row[0] for row in rows[1:]] == [f"Many Org {n}" for n in range(4)]
    query = OrganisationQuery(tags_all=("Qx Many",))
    assert sorted(c.full_name for c in contacts_for(query)) == [
        f"Many Person {n}" for n in range(4)
    ]


@pytest.mark.django_db
def test_a_count_parameter_other_than_exact_changes_nothing(client, operator, over_the_limit):
    client.force_login(operator)
    response = client.get(SEARCH, {"tags_any": "Qx Many", "count": "please"})
    assert response.status_code == 200
    assert "<strong>More than 3</strong>" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("include_archived", [False, True])
@pytest.mark.parametrize("tags", [("qx counted",), ()], ids=["one tag", "no filter"])
def test_the_whole_list_and_a_one_tag_search_are_counted_as_the_list_counts_them(
    operator, include_archived, tags
):
    """Archived, pending and merged organisations (merged both archived and not) among
    the tag's; the figure is the list's own, exact at any size."""
    tagged = [make(f"Qx Counted {n}", operator, tags=["Qx Counted"]) for n in range(8)]
    make("Qx Other", operator, tags=["Qx Elsewhere"])
    status = Organisation.Status
    Organisation.objects.filter(pk=tagged[0].pk).update(status=status.ARCHIVED)
    Organisation.objects.filter(pk=tagged[1].pk).update(status=status.PENDING)
    Organisation.objects.filter(pk=tagged[2].pk).update(merged_into=tagged[7])
    Organisation.objects.filter(pk=tagged[3].pk).update(
        merged_into=tagged[7], status=status.ARCHIVED
    )
    query = OrganisationQuery(tags_all=tags, include_archived=include_archived)
    expected = search_organisations(query).count()
    assert expected == (5 if tags else 6) + include_archived
    assert kept_count_of(query) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        {"tags_all": ("Qx Counted", "Qx Elsewhere")},
        {"tags_all": ("Qx Counted",), "text": "counted"},
        {"tags_all": ("Qx Counted",), "ids": (1,)},
        {"tags_any": ("Qx Counted",)},
        {"tags_all": ("Qx Nowhere",)},
        {"tags_all": ("Qx Case",)},  # two tags that differ only in case
        {"text": "counted"},
        {"sectors": (1,)},
    ],
)
def test_any_other_search_is_counted_match_by_match(operator, filters):
    make("Qx Counted 1", operator, tags=["Qx Counted", "Qx Elsewhere"])
    Tag.objects.create(name="Qx Case", slug="qx-case")
    Tag.objects.create(name="QX CASE", slug="qx-case-2")
    assert kept_count_of(OrganisationQuery(**filters)) is None


@pytest.mark.django_db
def test_a_one_tag_page_says_its_exact_count_above_the_limit(client, operator, over_the_limit):
    client.force_login(operator)
    page = client.get(SEARCH, {"tags_all": "Qx Many"}).content.decode()
    assert "<strong>4</strong> organisations found for these filters." in page
    assert "Count exactly" not in page


# Reading a page of many matches ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        {"text": "er"},  # shorter than a trigram: no index
        {"text": "robot"},
        {"text": "engineering leeds"},
        {"tags_all": ("Qx Placements", "Qx Robotics")},
        {"tags_all": ("qx placements",), "text": "der", "tags_none": ("Qx Arts",)},
        {"tags_any": ("Qx Finance", "Qx Arts"), "include_archived": True},
        {"tags_all": ("Qx Nowhere",)},
        {"sort": "-last_engaged"},
    ],
)
def test_the_in_name_order_form_finds_the_same_in_the_same_order(spread, filters):
    query = qx(**filters)
    expected = names(query)
    assert [o.name for o in search_organisations(query, in_name_order=True)] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "found"),
    [("ÉTUDES", True), ("œuvre", True), ("Zoë", True), ("etudes", False), ("ŒUVRE zoe", False)],
)
def test_text_beyond_ascii_is_found_the_same_in_name_order(operator, text, found):
    """In name order each row's document is checked, not the text index: the same
    lower-case document and word, so the same organisations, accents and all."""
    make("Zoë Œuvre Études", operator, tags=["Qx Arts"])
    query = qx(text=text)
    expected = ["Zoë Œuvre Études"] if found else []
    assert names(query) == expected
    assert [o.name for o in search_organisations(query, in_name_order=True)] == expected


@pytest.mark.django_db
def test_a_page_longer_than_one_read_of_rows_shows_every_row_in_its_order(operator):
    """The rows' query reads `ROWS_AT_ONCE` at a time; a longer page reads again."""
    for n in range(ROWS_AT_ONCE + 4):
        make(f"Qx Long {n:02d}", operator, tags=["Qx Long"])
    query = OrganisationQuery(tags_all=("Qx Long",), sort="-last_engaged")
    ids = search_organisations(query).values("pk")[: ROWS_AT_ONCE + 3]
    rows = organisation_rows(ids)
    assert [row.pk for row in rows] == [row["pk"] for row in ids]
    assert len(rows) == ROWS_AT_ONCE + 3
    assert rows[0].tag_name_list == ["Qx Long"]
    assert [row.url for row in rows] == [
        reverse("organisations:detail", args=[row.pk]) for row in rows
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("in_name_order", [False, True])
def test_a_page_is_shown_from_the_subquery_of_its_ids(operator, in_name_order):
    """Inside the subquery the search's tables have other names: its text filter must
    name its own, or it would check the outer row (every name before the matches')."""
    for name in ["Qx Ash", "Qx Beech", "Qx Cherry", "Qx Damson Gearworks", "Qx Elm Gearworks"]:
        make(name, operator, tags=["Qx Paged"])
    query = OrganisationQuery(text="gearworks", tags_all=("Qx Paged",))
    ids = search_organisations(query, in_name_order=in_name_order).values("pk")[0:2]
    assert [o.name for o in organisation_rows(ids)] == [
        "Qx Damson Gearworks",
        "Qx Elm Gearworks",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("engineering", ("qx placements",), 1),
        ("robotics", ("Qx Placements", "Qx Robotics"), 1),
        ("soft", ("QX SOFTWARE",), 1),
        ("software", ("Qx Software", "Qx Nowhere"), 0),
        ("ar", ("Qx Placements",), 3),  # shorter than a trigram: no text index to narrow
    ],
)
def test_text_with_all_of_tags_finds_what_each_finds_alone(spread, text, tags, expected):
    """SQLite narrows the text index's matches to the tags before reading rows; the
    answer is what the text alone and the tags alone both find."""
    by_text = set(names(qx(text=text)))
    by_tags = set(names(qx(tags_all=tags)))
    together = names(qx(text=text, tags_all=tags))
    assert together == sorted(by_text & by_tags, key=str.lower)
    assert len(together) == expected


@pytest.mark.django_db
def test_a_page_in_name_order_checks_the_rarest_tag_first(operator):
    from mycareer.organisations import search

    for n in range(6):
        tags = ["Qx Common"] + (["Qx Middle"] if n < 3 else []) + (["Qx Rare"] if n == 0 else [])
        make(f"Rare Org {n}", operator, tags=tags)
    search._tag_link_counts.clear()  # another test's figures, under ids reused since
    query = OrganisationQuery(tags_all=("Qx Common", "qx middle", "Qx Rare"))
    assert query.tag_ids.rarest_first(query.tags_all) == ["Qx Rare", "qx middle", "Qx Common"]
    assert names(query) == ["Rare Org 0"]
    # A page read in name order checks each row's tag text for the rarest tag first.
    sql = str(search_organisations(query, in_name_order=True).query)
    ids = query.tag_ids.ids
    positions = [sql.index(tag_token(ids[name][0])) for name in query.tags_all[::-1]]
    assert positions == sorted(positions)
    assert "taggedorganisation" not in sql


@pytest.mark.django_db
def test_a_page_of_many_matches_is_read_in_name_order_within_the_query_budget(
    client, operator, monkeypatch, django_assert_max_num_queries
):
    from mycareer.core import pagination

    for n in range(30):
        make(f"Walk Org {n:02d}", operator, tags=["Qx Walk"] + (["Qx Odd"] if n % 2 else []))
    client.force_login(operator)
    client.get(SEARCH)
    expected = [f"Walk Org {n:02d}" for n in range(25)]
    before = client.get(SEARCH, {"tags_all": "Qx Walk", "text": "walk"})
    assert [o.name for o in before.context["page"]] == expected
    # Thirty matches count as many once the factor is 1: the page is read in name order.
    monkeypatch.setattr(pagination, "IN_ORDER_FACTOR", 1)
    with django_assert_max_num_queries(10) as captured:
        after = client.get(SEARCH, {"tags_all": "Qx Walk", "text": "walk"})
    assert [o.name for o in after.context["page"]] == expected
    page_sql = [q["sql"] for q in captured.captured_queries if "LIMIT 25" in q["sql"]]
    assert len(page_sql) == 1
    # Each row's own documents are checked: neither the text index nor the tag links
    # are read to find the page (its rows' tag names are read for showing).
    assert "organisations_organisation_fts" not in page_sql[0]
    assert "EXISTS" not in page_sql[0]
    assert '"tag_document"' in page_sql[0]


def test_the_rows_drawn_by_jinja_escape_names_and_date_as_the_pages_do():
    """The list's rows are a Jinja2 template inside a Django one: names escaped, dates
    written by Django's own filter, the same as every other page."""
    from django.template import Context, Template

    from mycareer.organisations.search import OrganisationRow

    row = OrganisationRow(
        pk=7,
        name="<script>alert(1)</script> & Sons",
        status="archived",
        sector=None,
        size="small",
        locations="",
        tag_names="beta\x1fAlpha",
        last_engaged_on=datetime.date(2026, 3, 5),
        engagement_score=None,
        unit="Engineering",
        key_account_pairs=None,
        multi_touch=True,
        url="/organisations/7/",
    )
    page = Template('{% load jinja %}{% jinja "organisations/search_rows.html" page=rows %}')
    html = page.render(Context({"rows": [row]}))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html
    assert "<script>" not in html
    assert '<time datetime="2026-03-05">5 Mar 2026</time>' in html
    assert '<span class="tag">Alpha</span><span class="tag">beta</span>' in html
    assert "Small (10–49)" in html and "Archived" in html and "Multi-touch" in html
    assert 'href="/organisations/7/"' in html


@pytest.mark.django_db
def test_the_filters_are_drawn_once_for_each_set_of_values_and_choices(client, operator):
    """Kept per process: the same address draws the same filters, another its own, and a
    new sector is among the choices at once."""
    from mycareer.organisations.search import DRAWN_FILTERS

    DRAWN_FILTERS.clear()
    client.force_login(operator)
    first = client.get(SEARCH, {"text": "gearworks", "page": "1"}).content.decode()
    # The filters, and the order with "include archived", each kept once.
    assert 'value="gearworks"' in first and len(DRAWN_FILTERS) == 2
    again = client.get(SEARCH, {"text": "gearworks", "page": "2"}).content.decode()
    assert len(DRAWN_FILTERS) == 2  # the page is not a filter
    assert 'value="gearworks"' in again
    other = client.get(SEARCH, {"text": "ridge", "sort": "-last_engaged"}).content.decode()
    assert 'value="ridge"' in other and 'value="gearworks"' not in other
    assert len(DRAWN_FILTERS) == 4
    assert re.search(r'<option value="-last_engaged"[^>]* selected>', other)
    assert not re.search(r'<option value="-last_engaged"[^>]* selected>', again)
    Sector.objects.create(name="Qx Lighthouses", slug="qx-lighthouses")
    fresh = client.get(SEARCH, {"text": "gearworks"}).content.decode()
    assert "Qx Lighthouses" in fresh and 'value="gearworks"' in fresh


@pytest.mark.django_db
def test_filters_with_errors_are_drawn_with_them_and_not_kept(client, operator):
    from mycareer.organisations.search import DRAWN_FILTERS

    DRAWN_FILTERS.clear()
    client.force_login(operator)
    page = client.get(SEARCH, {"score_min": "500", "text": "kept"}).content.decode()
    assert "Enter a number" in page or "less than or equal to 100" in page
    assert 'value="kept"' in page
    assert not DRAWN_FILTERS


@pytest.mark.django_db
def test_saving_a_search_is_offered_once_there_are_filters(client, operator):
    client.force_login(operator)
    plain = client.get(SEARCH).content.decode()
    assert "Choose some filters, then save the search" in plain
    assert "Save this search" not in plain
    filtered = client.get(SEARCH, {"text": "gearworks"}).content.decode()
    assert "Save this search" in filtered and 'value="text=gearworks"' in filtered
    assert "Choose some filters" not in filtered
    wrong = client.get(SEARCH, {"score_min": "500"}).content.decode()
    assert "Save this search" not in wrong and "Choose some filters" not in wrong


@pytest.mark.django_db
def test_a_tag_nobody_was_ever_given_is_refused_by_name_not_searched_for(client, spread, operator):
    """A slip ("Qx Placemnts") in "none of these" left nothing out: an export with another
    filter held the very organisations the person meant to leave out."""
    client.force_login(operator)
    params = {"tags_any": "Qx Robotics, qx finance", "tags_none": "Qx Placemnts"}
    response = client.get(reverse("organisations:search"), params)
    text = response.content.decode()
    assert "No organisation has ever been tagged “Qx Placemnts”: check the spelling" in text
    assert "found for these filters" not in text
    response = client.get(EXPORT, params)  # back to the search, which says why
    assert response.status_code == 302 and response["Content-Type"].startswith("text/html")
    assert not AuditEntry.objects.filter(action="organisations.organisation.exported").exists()
    # Spelt right, in any case, it searches.
    params["tags_none"] = "qx placements"
    text = client.get(reverse("organisations:search"), params).content.decode()
    assert "has ever been tagged" not in text and "found for these filters" in text
