"""The organisations' tag text (`Organisation.tag_document`) follows their tag links,
whatever writes them, and the searches that read it find what the links say."""

import pytest
from django.db import connection
from taggit.models import Tag

from mycareer.organisations import imports, services
from mycareer.organisations.models import Organisation, TaggedOrganisation, tag_token
from mycareer.organisations.search import FTS_TABLE, OrganisationQuery, search_organisations
from mycareer.organisations.search_index import repair_sqlite_search_index
from mycareer.organisations.tests.factories import make_organisation


@pytest.fixture
def operator(persona):
    return persona("operator")


def tag_text_of(organisation: Organisation) -> set[str]:
    """What the database holds as the organisation's tag text, as tokens."""
    text = Organisation.objects.values_list("tag_document", flat=True).get(pk=organisation.pk)
    return set(text.split())


def tokens(*names: str) -> set[str]:
    return {tag_token(Tag.objects.get(name=name).pk) for name in names}


def assert_index_is_whole() -> None:
    """SQLite's check that the FTS5 index holds exactly what its content table holds."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"
            )


def found(**filters) -> list[str]:
    return [o.name for o in search_organisations(OrganisationQuery(**filters))]


def test_a_token_is_three_private_use_characters_one_per_tag():
    seen = {tag_token(pk) for pk in (1, 2, 2047, 2048, 2049, 4_194_303, 4_194_304, 99_999_999)}
    assert len(seen) == 8
    for token in seen:
        assert len(token) == 3 and all(0xE000 <= ord(c) < 0xE000 + 2048 for c in token)
    assert tag_token(1) == "\ue000\ue000\ue001"
    assert tag_token(2049) == "\ue000\ue001\ue001"


@pytest.mark.django_db
def test_the_tag_text_follows_every_change_of_the_tags(operator):
    acme = make_organisation("Tagtext Acme", by=operator, tags=["Tt Alpha", "Tt Beta"])
    other = make_organisation("Tagtext Other", by=operator, tags=["Tt Gamma"])
    assert tag_text_of(acme) == tokens("Tt Alpha", "Tt Beta")

    services.organisation_set_tags(organisation=acme, tags=["Tt Beta", "Tt Delta"], by=operator)
    assert tag_text_of(acme) == tokens("Tt Beta", "Tt Delta")
    # A link moved to another organisation (as a merge may move it) rewrites both.
    TaggedOrganisation.objects.filter(content_object=acme, tag__name="Tt Delta").update(
        content_object=other
    )
    assert tag_text_of(acme) == tokens("Tt Beta")
    assert tag_text_of(other) == tokens("Tt Gamma", "Tt Delta")
    # A tag deleted takes its token from every organisation.
    Tag.objects.filter(name="Tt Gamma").delete()
    assert tag_text_of(other) == tokens("Tt Delta")
    acme.tags.clear()
    assert tag_text_of(acme) == set()
    assert_index_is_whole()


@pytest.mark.django_db
def test_saving_an_organisation_read_before_its_tags_changed_keeps_the_new_tags(operator):
    """save() writes every field it holds; a tag text read before a tag change would be
    written back over the triggers' new one, and the search would lose the tag."""
    acme = make_organisation("Tagtext Stale", by=operator, tags=["Tt Alpha"])
    stale = Organisation.objects.get(pk=acme.pk)
    acme.tags.add("Tt Beta")
    stale.description = "Edited meanwhile"
    stale.save()
    assert tag_text_of(acme) == tokens("Tt Alpha", "Tt Beta")
    assert found(tags_all=("Tt Beta",)) == ["Tagtext Stale"]
    # A record read with some fields deferred saves what it read, as Django would.
    partial = Organisation.objects.only("name").get(pk=acme.pk)
    partial.name = "Tagtext Renamed"
    partial.save()
    acme.refresh_from_db()
    assert (acme.name, acme.description) == ("Tagtext Renamed", "Edited meanwhile")
    assert tag_text_of(acme) == tokens("Tt Alpha", "Tt Beta")


@pytest.mark.django_db
def test_a_merge_gives_the_survivor_both_records_tags_in_its_text(operator):
    survivor = make_organisation("Tagtext Survivor", by=operator, tags=["Tt Alpha"])
    other = make_organisation("Tagtext Duplicate", by=operator, tags=["Tt Beta", "Tt Gamma"])
    services.organisation_merge(survivor=survivor, other=other, keep={}, by=operator)
    assert tag_text_of(survivor) == tokens("Tt Alpha", "Tt Beta", "Tt Gamma")
    assert tag_text_of(other) == set()
    assert found(tags_all=("Tt Beta", "Tt Alpha")) == ["Tagtext Survivor"]
    assert_index_is_whole()


@pytest.mark.django_db
def test_an_import_writes_the_tag_text_of_what_it_creates(operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    headings = [c.heading for c in imports.COLUMNS]
    values = {"name": "Tagtext Imported Ltd", "tags": "Tt Imported; Tt Alpha"}
    row = [values.get(c.key, "") for c in imports.COLUMNS]
    data = (",".join(headings) + "\n" + ",".join(row) + "\n").encode()
    plan = imports.plan_import(data=data, filename="tags.csv")
    assert plan.is_valid, plan
    imports.import_apply(plan=plan, by=operator)
    made = Organisation.objects.get(name="Tagtext Imported Ltd")
    assert tag_text_of(made) == tokens("Tt Imported", "Tt Alpha")
    assert found(tags_all=("tt imported", "TT ALPHA")) == ["Tagtext Imported Ltd"]
    assert_index_is_whole()


@pytest.mark.django_db
def test_deleting_an_organisation_leaves_the_index_whole(operator):
    gone = make_organisation("Tagtext Gone", by=operator, tags=["Tt Alpha", "Tt Beta"])
    gone.delete()
    assert found(tags_all=("Tt Alpha",)) == []
    assert_index_is_whole()


@pytest.mark.django_db
def test_tags_and_words_are_matched_together_in_one_index(operator):
    make_organisation("Tagtext Bridge Works", by=operator, tags=["Tt Alpha", "Tt Beta"])
    make_organisation("Tagtext Bridge Yard", by=operator, tags=["Tt Alpha"])
    make_organisation("Tagtext Canal Works", by=operator, tags=["Tt Alpha", "Tt Beta"])
    assert found(text="bridge", tags_all=("Tt Alpha", "Tt Beta")) == ["Tagtext Bridge Works"]
    assert found(text="tagtext", tags_any=("Tt Beta",)) == [
        "Tagtext Bridge Works",
        "Tagtext Canal Works",
    ]
    sql = str(search_organisations(OrganisationQuery(tags_all=("Tt Alpha", "Tt Beta"))).query)
    # The tags are the index's, not read from the tag links.
    assert "organisations_taggedorganisation" not in sql
    if connection.vendor == "sqlite":
        assert f'"{FTS_TABLE}"."tag_document" MATCH' in sql
    else:
        assert "string_to_array" in sql
    # No word of a name can hold a token: a word never matches the tag text.
    assert found(text=tag_token(Tag.objects.get(name="Tt Alpha").pk)) == []


@pytest.mark.django_db
def test_a_lost_trigger_on_the_tag_links_is_put_back_and_the_texts_rewritten(operator):
    acme = make_organisation("Tagtext Repair", by=operator, tags=["Tt Alpha"])
    if connection.vendor != "sqlite":
        assert repair_sqlite_search_index() == []
        return
    with connection.cursor() as cursor:
        # What Django's copy-the-table ALTER of the tag links on SQLite leaves behind.
        cursor.execute("DROP TRIGGER organisations_taggedorganisation_insert")
    acme.tags.add("Tt Beta")
    assert found(tags_all=("Tt Beta",)) == []
    assert repair_sqlite_search_index() == ["organisations_taggedorganisation_insert"]
    assert found(tags_all=("Tt Beta",)) == ["Tagtext Repair"]
    assert_index_is_whole()


@pytest.mark.django_db
def test_a_tag_text_already_right_is_not_written_again(operator):
    """A row written is a new row version on PostgreSQL, in every index: a seed or an
    import that writes the text with the row must not have each link write it again."""
    acme = make_organisation("Tagtext Written", by=operator, tags=["Tt Alpha"])
    beta = Tag.objects.create(name="Tt Beta", slug="tt-beta")
    Organisation.objects.filter(pk=acme.pk).update(
        tag_document=" ".join(sorted(tokens("Tt Alpha", "Tt Beta")))
    )

    def row_version():
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT ctid FROM organisations_organisation WHERE id = %s", [acme.pk])
            return cursor.fetchone()[0]

    before = row_version()
    TaggedOrganisation.objects.create(content_object=acme, tag=beta)
    assert row_version() == before
    assert tag_text_of(acme) == tokens("Tt Alpha", "Tt Beta")
    assert_index_is_whole()
