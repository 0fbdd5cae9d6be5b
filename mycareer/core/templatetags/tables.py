"""The one way to draw a table of records on a page: ``{% table %}``.

    {% load tables %}
    {% table page "When" "Event" "Type" %}
      {{ page.paginator.count }} event{{ page.paginator.count|pluralize }}
    {% rows %}
      {% for event in page %}<tr><td data-label="When">…</td>…</tr>{% endfor %}
    {% none %}
      <p>No events.</p>
    {% endtable %}

The first argument holds the records (a page, a list or a queryset); the strings after it
are the column headings (one that comes out empty is left out). What stands before
``{% rows %}`` is the caption (left out when it is blank), what follows it the rows, and
what follows ``{% none %}`` is shown instead of the table when there are no records.

Options: ``actions="Actions"`` adds a last column whose heading only screen readers hear;
``region="People booked"`` makes a wide table a named region that scrolls from the
keyboard; ``caption="hidden"`` keeps the caption for screen readers only, where a heading
above already says what the table holds. A page (anything with a ``paginator``) gets the
page links below the table (``{% page_links page %}``, which a list that is not a table
uses on its own), so every list pages the same way.
"""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html, format_html_join

register = template.Library()


class TableNode(template.Node):
    def __init__(self, records, headings, options, caption, rows, none):
        self.records = records
        self.headings = headings
        self.options = options
        self.caption = caption
        self.rows = rows
        self.none = none

    def render(self, context):
        records = self.records.resolve(context)
        if not records:
            return self.none.render(context) if self.none else ""
        options = {name: value.resolve(context) for name, value in self.options.items()}
        # A heading that comes out empty is left out: a column only some people see is
        # named with `can_email|yesno:"Choose,"` and its cells with `{% if can_email %}`.
        headings = [h for h in (heading.resolve(context) for heading in self.headings) if h]
        heads = format_html_join("", '<th scope="col">{}</th>', ((h,) for h in headings))
        if options.get("actions"):
            heads += format_html(
                '<th scope="col"><span class="visually-hidden">{}</span></th>', options["actions"]
            )
        caption = self.caption.render(context)  # safe text from the template
        if caption.strip():
            hidden = options.get("caption") == "hidden"
            caption = format_html(
                '<caption class="visually-hidden">{}</caption>\n'
                if hidden
                else "<caption>{}</caption>\n",
                caption,
            )
        else:
            caption = ""
        region = options.get("region")
        html = format_html(
            '<div class="table-wrap"{}>\n<table class="responsive">\n{}'
            "<thead><tr>{}</tr></thead>\n<tbody>{}</tbody>\n</table>\n</div>\n",
            format_html(' tabindex="0" role="region" aria-label="{}"', region) if region else "",
            caption,
            heads,
            self.rows.render(context),
        )
        if hasattr(records, "paginator"):
            html += page_links(context, records)
        return html


@register.simple_tag(takes_context=True)
def page_links(context, page) -> str:
    """``{% page_links page %}``: the links to a page's neighbours, "Page 2 of 7" between,
    keeping the list's filters (the `querystring` in the page's context). Nothing for a
    list of one page. A ``{% table %}`` of a page has them already.
    """
    if not page.has_other_pages():
        return ""
    querystring = context.get("querystring")
    start = f"?{querystring}&page=" if querystring else "?page="
    previous = (
        format_html('<a href="{}{}">Previous page</a>', start, page.previous_page_number())
        if page.has_previous()
        else ""
    )
    pages = page.paginator.num_pages
    following = (
        format_html('<a href="{}{}">Next page</a>', start, page.next_page_number())
        if page.has_next()
        else ""
    )
    return format_html(
        '<nav class="pagination" aria-label="Pages">\n  {}\n  <span>Page {}{}</span>\n  {}\n'
        "</nav>\n",
        previous,
        page.number,
        f" of {pages}" if pages else "",
        following,
    )


@register.tag
def table(parser, token):
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("{% table %} needs the records to show.")
    records = parser.compile_filter(bits[0])
    headings, options = [], {}
    for bit in bits[1:]:
        name, equals, value = bit.partition("=")
        if equals and name.isidentifier():
            if name not in {"actions", "region", "caption"}:
                raise template.TemplateSyntaxError(f"{{% table %}} has no option {name!r}.")
            options[name] = parser.compile_filter(value)
        else:
            headings.append(parser.compile_filter(bit))
    caption = parser.parse(("rows",))
    parser.delete_first_token()
    rows = parser.parse(("none", "endtable"))
    none = None
    if parser.next_token().contents == "none":
        none = parser.parse(("endtable",))
        parser.delete_first_token()
    return TableNode(records, headings, options, caption, rows, none)


@register.filter
def counted(page) -> str:
    """A page's count for people: "1,234", or "more than 10,000" where it was not counted.

    Pluralise with `page.paginator.count|pluralize`: above the limit the count is the
    limit plus one, which is plural.
    """
    paginator = page.paginator
    if getattr(paginator, "exact", True):
        return intcomma(paginator.count)
    return f"more than {intcomma(paginator.limit)}"
