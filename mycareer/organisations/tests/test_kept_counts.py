"""The kept counts of live and archived organisations, in all and with each tag
(`organisations.kept_counts`), follow the organisations and their tag links, whatever
writes them, and the whole list and the one-tag search are counted from them."""

import logging
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count, Sum
from taggit.models import Tag

from mycareer.core.registry import daily_jobs
from mycareer.organisations import kept_counts, services
from mycareer.organisations.models import KeptCount, Organisation, TaggedOrganisation
from mycareer.organisations.search import OrganisationQuery, kept_count_of
from mycareer.organisations.tests.factories import make_organisation


@pytest.fixture
def operator(persona):
    return persona("operator")


def kept() -> dict[int | None, tuple[int, int]]:
    """(live, archived) of every tag, and (None) in all, as the kept rows sum them;
    figures at (0, 0) left out."""
    rows = KeptCount.objects.values("tag_id").annotate(live=Sum("live"), archived=Sum("archived"))
    return {r["tag_id"]: (r["live"], r["archived"]) for r in rows if r["live"] or r["archived"]}


def counted() -> dict[int | None, tuple[int, int]]:
    """(live, archived) of every tag, and (None) in all, counted from the organisations
    and their links; figures at (0, 0) left out."""
    with connection.cursor() as cursor:
        cursor.execute(kept_counts.RECOUNT)
        return {
            tag: (live, archived) for tag, live, archived in cursor.fetchall() if live or archived
        }


def figures(name: str) -> tuple[int, int]:
    return kept().get(Tag.objects.get(name=name).pk, (0, 0))


def in_all() -> tuple[int, int]:
    return kept().get(None, (0, 0))


def assert_kept_as_counted() -> None:
    assert kept() == counted()


@pytest.mark.django_db
def test_the_counts_follow_every_change_of_the_links_and_the_organisations(operator):
    live, archived = in_all()
    acme = make_organisation("Tally Acme", by=operator, tags=["Tc Alpha", "Tc Beta"])
    other = make_organisation("Tally Other", by=operator, tags=["Tc Alpha"])
    assert (figures("Tc Alpha"), figures("Tc Beta")) == ((2, 0), (1, 0))
    assert in_all() == (live + 2, archived)

    services.organisation_set_tags(organisation=acme, tags=["Tc Beta", "Tc Gamma"], by=operator)
    assert (figures("Tc Alpha"), figures("Tc Gamma")) == ((1, 0), (1, 0))
    services.organisation_archive(organisation=acme, by=operator)
    assert (figures("Tc Beta"), figures("Tc Gamma")) == ((0, 1), (0, 1))
    assert in_all() == (live + 1, archived + 1)
    services.organisation_restore(organisation=acme, by=operator)
    assert figures("Tc Beta") == (1, 0)
    assert in_all() == (live + 2, archived)
    assert_kept_as_counted()

    # A link moved to another organisation, and several written in one statement.
    TaggedOrganisation.objects.filter(content_object=acme, tag__name="Tc Gamma").update(
        content_object=other
    )
    delta = Tag.objects.create(name="Tc Delta", slug="tc-delta")
    TaggedOrganisation.objects.bulk_create(
        [TaggedOrganisation(content_object=o, tag=delta) for o in (acme, other)]
    )
    assert figures("Tc Delta") == (2, 0)
    # Several organisations archived in one statement, then one of them merged away.
    Organisation.objects.filter(pk__in=[acme.pk, other.pk]).update(
        status=Organisation.Status.ARCHIVED
    )
    assert figures("Tc Delta") == (0, 2)
    Organisation.objects.filter(pk=other.pk).update(merged_into=acme)
    assert figures("Tc Delta") == (0, 1)
    assert in_all() == (live, archived + 1)
    assert_kept_as_counted()

    # A tag deleted, an organisation deleted: their links go, and their counts with them.
    Tag.objects.filter(name="Tc Delta").delete()
    services.organisation_delete(organisation=acme, by=operator)
    assert figures("Tc Beta") == (0, 0)
    # The record merged into it is merged into nothing now (SET_NULL): archived again.
    assert in_all() == (live, archived + 1)
    assert_kept_as_counted()


@pytest.mark.django_db
def test_a_merge_counts_the_survivor_once_for_each_tag(operator):
    survivor = make_organisation("Tally Survivor", by=operator, tags=["Tc Alpha", "Tc Beta"])
    other = make_organisation("Tally Duplicate", by=operator, tags=["Tc Beta", "Tc Gamma"])
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)
    assert (figures("Tc Alpha"), figures("Tc Beta"), figures("Tc Gamma")) == (
        (1, 0),
        (1, 0),
        (1, 0),
    )
    assert_kept_as_counted()


@pytest.mark.django_db
@pytest.mark.parametrize("tags", [("tc counted",), ()], ids=["one tag", "no filter"])
def test_the_whole_list_and_a_one_tag_search_read_the_kept_counts_alone(
    operator, django_assert_num_queries, tags, settings
):
    # Read in the SQL itself: on PostgreSQL a prepared query is sent by its name.
    settings.MYCAREER = {**settings.MYCAREER, "PG_PREPARED_STATEMENTS": False}
    for n in range(3):
        make_organisation(f"Tally Counted {n}", by=operator, tags=["Tc Counted"])
    query = OrganisationQuery(tags_all=tags)
    query.tag_ids  # noqa: B018 (the tag's id, read once per query, is not the count's)
    expected = 3 if tags else Organisation.objects.count()
    with django_assert_num_queries(1) as captured:
        assert kept_count_of(query) == expected
    (sql,) = [q["sql"] for q in captured.captured_queries]
    assert "organisations_keptcount" in sql
    assert "organisations_taggedorganisation" not in sql
    assert "organisations_organisation" not in sql


@pytest.mark.django_db
def test_the_nights_compaction_folds_each_figure_into_one_row(operator, caplog):
    acme = make_organisation("Tally Fold", by=operator, tags=["Tc Alpha", "Tc Beta"])
    for tags in (["Tc Alpha"], ["Tc Alpha", "Tc Gamma"], ["Tc Gamma"]):
        services.organisation_set_tags(organisation=acme, tags=tags, by=operator)
    before = kept()
    with caplog.at_level(logging.INFO, logger="mycareer.organisations.kept_counts"):
        result = kept_counts.compact()
    assert kept() == before == counted()
    rows = KeptCount.objects.values("tag_id").annotate(n=Count("id"))
    assert {r["n"] for r in rows} == {1}
    if connection.vendor == "postgresql":
        # Alpha and Beta, carried by none, are gone.
        assert result["rows_after"] == len(before) < result["rows_before"]
    else:
        # A row each already, kept at nothing: Alpha and Beta are still rows.
        assert result["rows_after"] == result["rows_before"] == len(before) + 2
    assert "event=kept_counts.compacted" in caplog.text
    [job] = [j for j in daily_jobs() if j.name == "kept counts"]
    assert job.task.call() == {
        "rows_before": result["rows_after"],
        "rows_after": result["rows_after"],
    }


@pytest.mark.django_db
def test_a_tag_on_merged_organisations_alone_is_counted_when_one_is_set_free(operator):
    """A figure at nothing (its tag only on merged organisations) outlives the night's
    compaction, or is made again, so the record's release is counted."""
    survivor = make_organisation("Tally Keeps", by=operator)
    merged = make_organisation("Tally Merged", by=operator, tags=["Tc Only"])
    Organisation.objects.filter(pk=merged.pk).update(merged_into=survivor)
    assert figures("Tc Only") == (0, 0)
    kept_counts.compact()
    services.organisation_delete(organisation=survivor, by=operator)
    assert figures("Tc Only") == (1, 0)
    assert_kept_as_counted()


@pytest.mark.django_db
def test_a_lost_trigger_is_put_back_and_every_tag_counted_again(operator):
    acme = make_organisation("Tally Repair", by=operator, tags=["Tc Alpha"])
    if connection.vendor != "sqlite":
        assert kept_counts.repair_sqlite_kept_counts() == []
        return
    with connection.cursor() as cursor:
        # What Django's copy-the-table ALTER of the organisations on SQLite leaves behind.
        cursor.execute("DROP TRIGGER organisations_keptcount_status")
    services.organisation_archive(organisation=acme, by=operator)
    assert figures("Tc Alpha") == (1, 0)
    assert kept_counts.repair_sqlite_kept_counts() == ["organisations_keptcount_status"]
    assert figures("Tc Alpha") == (0, 1)
    assert kept_counts.repair_sqlite_kept_counts() == []
    services.organisation_restore(organisation=acme, by=operator)
    assert figures("Tc Alpha") == (1, 0)


def _in_own_transaction(work, started: threading.Event, go_on: threading.Event) -> None:
    try:
        with transaction.atomic():
            work()
            started.set()
            go_on.wait(timeout=10)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["archive", "tag"])
def test_a_link_added_while_its_organisation_is_archived_is_counted_once(operator, first):
    """Two writers at once on PostgreSQL: whichever commits first, the other counts after
    it (SQLite has one writer at a time: the same two changes, one after the other)."""
    acme = make_organisation("Tally Race", by=operator, tags=["Tc Alpha"])
    Tag.objects.create(name="Tc Beta", slug="tc-beta")

    def archive():
        Organisation.objects.filter(pk=acme.pk).update(status=Organisation.Status.ARCHIVED)

    def tag():
        TaggedOrganisation.objects.create(
            content_object_id=acme.pk, tag=Tag.objects.get(name="Tc Beta")
        )

    works = {"archive": archive, "tag": tag}
    if connection.vendor != "postgresql":
        works[first]()
        works["tag" if first == "archive" else "archive"]()
    else:
        started, go_on, never = threading.Event(), threading.Event(), threading.Event()
        holder = threading.Thread(target=_in_own_transaction, args=(works[first], started, go_on))
        holder.start()
        assert started.wait(timeout=10)
        second = "tag" if first == "archive" else "archive"
        waiter = threading.Thread(
            target=_in_own_transaction, args=(works[second], threading.Event(), never)
        )
        never.set()
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive()  # waiting for the first writer's organisation row
        go_on.set()
        holder.join(timeout=10)
        waiter.join(timeout=10)
    assert (figures("Tc Alpha"), figures("Tc Beta")) == ((0, 1), (0, 1))
    assert_kept_as_counted()


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_links_already_there_and_goes_back(operator):
    from mycareer.organisations.tests.test_score_migration import migrate

    acme = make_organisation("Tally Migrated", by=operator, tags=["Tc Alpha", "Tc Beta"])
    make_organisation("Tally Archived", by=operator, tags=["Tc Alpha"])
    try:
        migrate(("organisations", "0016_organisation_score_table"))
        assert "organisations_keptcount" not in connection.introspection.table_names()
        # Changed while nothing counted: the migration counts what it finds.
        Organisation.objects.filter(name="Tally Archived").update(
            status=Organisation.Status.ARCHIVED
        )
        TaggedOrganisation.objects.filter(content_object=acme, tag__name="Tc Beta").delete()
    finally:
        migrate()
    assert (figures("Tc Alpha"), figures("Tc Beta"), in_all()) == ((1, 1), (0, 0), (1, 1))
    services.organisation_archive(organisation=acme, by=operator)
    assert figures("Tc Alpha") == (0, 2)
    assert_kept_as_counted()


@pytest.mark.django_db
def test_a_figure_counts_archived_organisations_only_when_asked(operator):
    made = [
        make_organisation(f"Tally Shelved {n}", by=operator, tags=["Tc Shelved"]) for n in range(3)
    ]
    services.organisation_archive(organisation=made[0], by=operator)
    tag_id = Tag.objects.get(name="Tc Shelved").pk
    assert kept_counts.kept_count(tag_id, include_archived=False) == 2
    assert kept_counts.kept_count(tag_id, include_archived=True) == 3
    everyone = Organisation.objects.filter(merged_into__isnull=True)
    assert kept_counts.kept_count(None, include_archived=True) == everyone.count()
    assert (
        kept_counts.kept_count(None, include_archived=False)
        == everyone.exclude(status=Organisation.Status.ARCHIVED).count()
    )


@pytest.mark.django_db
def test_a_tag_nobody_carries_counts_none():
    assert kept_counts.kept_count(987_654, include_archived=True) == 0
