"""The {% table %} tag: one way to draw a table of records, its page links and its empty state."""

import pytest
from django.core.paginator import Paginator
from django.template import Context, Template, TemplateSyntaxError

TABLE = """{% load tables %}{% table rows "Name" heading actions="Actions" region="People" %}
  {{ rows|length }} people
{% rows %}{% for row in rows %}<tr><td data-label="Name">{{ row }}</td></tr>{% endfor %}
{% none %}<p>Nobody yet.</p>{% endtable %}"""


def render(source, **context):
    return Template(source).render(Context(context))


def test_a_table_has_its_headings_caption_and_rows():
    html = render(TABLE, rows=["Ada", "Ben"], heading="<b>Year</b>")
    assert '<div class="table-wrap" tabindex="0" role="region" aria-label="People">' in html
    assert "<caption>\n  2 people\n</caption>" in html
    assert '<th scope="col">Name</th><th scope="col">&lt;b&gt;Year&lt;/b&gt;</th>' in html
    assert '<th scope="col"><span class="visually-hidden">Actions</span></th>' in html
    assert '<td data-label="Name">Ada</td>' in html
    assert "Nobody yet." not in html
    assert "pagination" not in html  # a list is not a page


def test_no_records_show_the_empty_state_instead_of_bare_headings():
    html = render(TABLE, rows=[], heading="Year")
    assert html.strip() == "<p>Nobody yet.</p>"
    assert render('{% load tables %}{% table rows "A" %}{% rows %}x{% endtable %}', rows=[]) == ""


def test_a_page_gets_its_page_links_and_a_hidden_caption_stays_for_screen_readers():
    page = Paginator(list(range(30)), 10).page(2)
    source = (
        '{% load tables %}{% table page "N" caption="hidden" %}Numbers{% rows %}'
        "{% for n in page %}<tr><td>{{ n }}</td></tr>{% endfor %}{% endtable %}"
    )
    html = render(source, page=page, querystring="sort=name")
    assert '<caption class="visually-hidden">Numbers</caption>' in html
    assert "<td>10</td>" in html and "<td>20</td>" not in html
    assert "Page 2 of 3" in html
    assert 'href="?sort=name&amp;page=1"' in html and 'href="?sort=name&amp;page=3"' in html


def test_page_links_on_their_own_keep_the_filters_escaped_and_end_at_the_ends():
    source = "{% load tables %}{% page_links page %}"
    first = render(source, page=Paginator(list(range(30)), 10).page(1), querystring="q=a<b")
    assert '<nav class="pagination" aria-label="Pages">' in first
    assert "Previous page" not in first and "Page 1 of 3" in first
    assert 'href="?q=a&lt;b&amp;page=2">Next page</a>' in first
    last = render(source, page=Paginator(list(range(30)), 10).page(3))
    assert 'href="?page=2">Previous page</a>' in last and "Next page" not in last
    assert render(source, page=Paginator(list(range(5)), 10).page(1)) == ""


def test_a_blank_caption_is_left_out():
    source = '{% load tables %}{% table rows "A" %}  {% rows %}<tr></tr>{% endtable %}'
    html = render(source, rows=[1])
    assert "<caption" not in html


@pytest.mark.parametrize(
    "source",
    [
        "{% load tables %}{% table %}{% rows %}{% endtable %}",
        '{% load tables %}{% table rows "A" colour="red" %}{% rows %}{% endtable %}',
        '{% load tables %}{% table rows "A" %}{% endtable %}',
    ],
)
def test_a_mistyped_table_fails_when_the_template_is_read(source):
    with pytest.raises(TemplateSyntaxError):
        Template(source)


def test_a_column_only_some_people_see_is_left_out_for_the_others():
    source = (
        '{% load tables %}{% table rows may|yesno:"Choose," "Name" %}{% rows %}'
        "{% for r in rows %}<tr>{% if may %}<td>x</td>{% endif %}<td>{{ r }}</td></tr>{% endfor %}"
        "{% endtable %}"
    )
    shown = render(source, rows=[1], may=True)
    assert '<thead><tr><th scope="col">Choose</th><th scope="col">Name</th></tr></thead>' in shown
    hidden = render(source, rows=[1], may=False)
    assert '<thead><tr><th scope="col">Name</th></tr></thead>' in hidden
