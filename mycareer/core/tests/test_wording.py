"""The words on every page: counts agree with their nouns, no stray spaces or doubled stops.

Two checks. Every page that each persona can open is read as a person reads it (tags
removed, spaces collapsed) and searched for "1 places", " ," and "..". And the source
is searched for hand-rolled plurals (`"s" if n != 1`), which Django's `ngettext` and
`pluralize` replace: one way to pluralise, ready for translation.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from mycareer.core.tests.conftest_matrix import login_as
from mycareer.core.tests.matrix import route_kwargs, sample_objects, url_routes

ROOT = Path(__file__).resolve().parents[2]
# One of each kind of page: the other personas of the matrix see the same templates.
WORDING_PERSONAS = ["anonymous", "student", "employer_a", "operator", "mailer", "admin"]

# Nouns MyCareer counts; "1" followed by one of them is a missing pluralize.
PLURALS = (
    "places|contacts|people|events|bookings|vacancies|organisations|notes|days|weeks|hours|"
    "minutes|emails|messages|registrations|requests|results|members|changes|rows|tags|"
    "clashes|students|no-shows|entries|sessions|votes|comments|accounts|units|records|"
    "matches|recipients|campaigns|errors|items|months|years|columns|files|times"
)
ONE_WITH_A_PLURAL = re.compile(rf"(?<![\d,.£$])\b1 ({PLURALS})\b")
SPACE_BEFORE_COMMA = re.compile(r"\S ,")
DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
# "contacting., Lead", "anything.; liaise": two marks where one ends the sentence.
DOUBLED_MARKS = re.compile(r"[.;:][,;]|[,;][.]")

# mycareer/mailing/ is being rewritten on its own branch: its wording is listed for that
# work rather than changed here (see the project's decisions record, 2026-12-01).
MAILING_LEFT_FOR_THE_LEAD = ("mycareer/mailing/",)
# `"s" if n != 1`, or two words chosen by comparing a count with 1.
HAND_ROLLED_PLURAL = re.compile(
    r"""['"](s|es|ies|y)['"] if |['"][\w ]*['"] if [^'"]+ [=!<>]=? ?1 else ['"]"""
)


HIDDEN = {"script", "style", "template", "title"}
# Elements that start on a line of their own; inline ones (a, strong, span…) do not.
BLOCKS = {
    "address", "article", "aside", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "legend", "li", "main", "nav", "ol", "option", "p", "section", "summary", "table",
    "td", "th", "tr", "ul",
}  # fmt: skip
BREAK = "\x00"


class _Text(HTMLParser):
    """The text a person sees: no scripts or styles, and a break only between blocks."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self._hidden += 1
        elif tag in BLOCKS:
            self.parts.append(BREAK)

    def handle_endtag(self, tag):
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag in BLOCKS:
            self.parts.append(BREAK)

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """Each block on a line of its own, with spaces collapsed as a browser shows them."""
    parser = _Text()
    parser.feed(html)
    lines = "".join(parser.parts).split(BREAK)
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def wording_problems(text: str) -> list[str]:
    found = []
    for pattern, what in (
        (ONE_WITH_A_PLURAL, "a plural after 1"),
        (SPACE_BEFORE_COMMA, "a space before a comma"),
        (DOUBLED_STOP, "a doubled full stop"),
        (DOUBLED_MARKS, "doubled punctuation"),
    ):
        for match in pattern.finditer(text):
            start = max(0, match.start() - 40)
            context = text[start : match.end() + 40].replace(BREAK, " / ").replace("\n", " / ")
            found.append(f"{what}: …{context}…")
    return found


def test_the_checks_catch_what_they_look_for():
    assert wording_problems("1 places left") == ["a plural after 1: …1 places left…"]
    assert wording_problems("11 places, 2,001 people and 1 place") == []
    assert wording_problems("Tom Bennett , Mechanical") != []
    assert wording_problems("Read this.. then") != []
    assert wording_problems("Loading… and wait...") == []
    assert wording_problems("before contacting., Lead") != []
    assert wording_problems("Room 1.08, Leeds; 2.5 hours") == []
    assert visible_text("<p>1 <b>places</b></p><script>x .. y</script>") == "1 places"
    assert visible_text("<p><a>Amelia</a>, <a>Kirkstall</a></p>") == "Amelia, Kirkstall"
    assert visible_text("<li>Amelia\n, Kirkstall</li><li>Next</li>") == "Amelia , Kirkstall\nNext"


@pytest.mark.django_db
def test_no_page_says_1_places_or_has_stray_spaces_or_doubled_stops(client, persona, cast):
    objects = sample_objects(persona)
    # Beyond one page per route: an organisation with key contacts and guidance.
    key_pages = [
        reverse("organisations:detail", args=[objects["key_org"]]),
        reverse("organisations:contact", args=[objects["key_org"], objects["key_contact"]]),
    ]
    problems = []
    for who in WORDING_PERSONAS:
        login_as(client, persona, who)
        urls = [
            reverse(name, kwargs=route_kwargs(name, route, objects))
            for name, route in sorted(url_routes().items())
        ]
        for url in urls + key_pages:
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            text = visible_text(response.content.decode())
            problems += [f"{who} {url}: {p}" for p in wording_problems(text)]
    assert not problems, "\n".join(problems)


def _sources():
    for path in sorted(ROOT.glob("mycareer/**/*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.suffix not in (".py", ".html", ".txt") or "/tests/" in relative:
            continue
        if "/migrations/" in relative or relative.startswith(MAILING_LEFT_FOR_THE_LEAD):
            continue
        yield relative, path.read_text(encoding="utf-8")


def test_plurals_come_from_ngettext_or_pluralize_not_hand_rolled():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in _sources()
        for number, line in enumerate(text.splitlines(), 1)
        if HAND_ROLLED_PLURAL.search(line)
    ]
    assert not found, "\n".join(found)


def test_counted_agrees_with_its_number():
    from mycareer.bookings.models import NoShowPolicy
    from mycareer.core.text import counted, joined

    assert counted(1, "place", "places") == "1 place"
    assert counted(0, "place", "places") == "0 places"
    assert counted(1204, "person", "people") == "1,204 people"
    assert joined(["A"]) == "A" and joined(["A", "B", "C"]) == "A, B and C"
    policy = NoShowPolicy(enabled=True, no_shows=1, window_weeks=1, ban_weeks=2)
    assert str(policy) == "1 no-show within 1 week stops booking for 2 weeks"


@pytest.mark.django_db
def test_a_merge_says_1_contact_moved_not_1_contacts(cast, persona):
    from mycareer.organisations import services
    from mycareer.organisations.tests.factories import OrganisationFactory

    survivor = OrganisationFactory(name="Northbridge Engineering Ltd")
    other = services.organisation_create(
        by=persona("operator"), name="Northbridge Eng", confirm_duplicates=True
    )
    services.contact_create(organisation=other, by=None, full_name="Ada Lovelace")
    summary = services.organisation_merge(survivor=survivor, other=other, keep={}, by=None)
    assert services.merge_summary_text(summary) == "1 contact moved"
    assert services.merge_summary_text({"notes": 1, "vacancies": 2}) == "1 note and 2 vacancies"
    assert services.merge_summary_text({"notes": 0}) == "nothing else moved"
