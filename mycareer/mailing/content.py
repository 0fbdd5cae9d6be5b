"""A campaign's words for one recipient: Markdown to safe HTML and to plain text.

The body is Markdown (CommonMark, with single line breaks kept, as people type
emails). Both parts come from the same parse, so paragraphs, lists and links survive
in each; raw HTML is not Markdown here and shows as the characters typed, so a "<" in
"salaries < £30,000" is just a character. The HTML is sanitised again with nh3.
"""

import re

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from markdown_it import MarkdownIt

from mycareer.core import mailmerge
from mycareer.core.mail import careers_centre_address

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "hr",
    "code",
    "pre",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
MERGE_FIELDS = {
    "first_name": "The contact's first name",
    "full_name": "The contact's full name",
    "organisation": "The contact's organisation",
}
SYNTAX_HELP = (
    "Write in Markdown: a blank line between paragraphs; **bold**; *italics*; "
    "a line starting “- ” for a bullet or “1. ” for a numbered list; "
    "[words to click](https://example.ac.uk) for a link; ## for a heading."
)
EXAMPLE = (
    "Dear {{ first_name }},\n\n"
    "Our **spring careers fair** is on *12 March*:\n\n"
    "- stands for 60 employers\n"
    "- [book a stand](https://careers.example.ac.uk/fair)\n\n"
    "Best wishes,\nThe Careers Centre"
)

_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True})
# Tags a person pasting HTML would expect to format; refused with a pointer to Markdown.
_FULL_ADDRESS = re.compile(r"(https?://[^/\s]+|mailto:\S+@)", re.I)
_HTML_TAG = re.compile(r"</?(p|br|b|strong|i|em|u|ul|ol|li|a|h[1-6]|div|span|table)\b[^>]*>", re.I)


def check_markdown(body: str) -> None:
    """Refuse a body that would not come out as its writer meant it."""
    errors = []
    if tag := _HTML_TAG.search(body):
        errors.append(
            f"The text has an HTML tag ({tag.group(0)}), which would arrive as typed. "
            "Use Markdown instead: " + SYNTAX_HELP
        )
    for words, href in unusable_links(body):
        errors.append(
            f"The link “{words}” goes to “{href}”, which is not a full web address: "
            "the people who receive the email could not open it. Write the address in "
            "full, starting https:// (or mailto: for an email address)."
        )
    errors += merge_field_problems(body)
    if errors:
        raise ValidationError({"body": errors})


def check_subject(subject: str) -> None:
    """Refuse a subject whose merge fields would not be filled in: it is merged too."""
    if errors := merge_field_problems(subject):
        raise ValidationError({"subject": errors})


def merge_field_problems(text: str) -> list[str]:
    """Merge fields MyCareer does not know, and ones not typed whole ("{{ first_name"):
    either would reach every recipient as typed."""
    return mailmerge.problems(text, MERGE_FIELDS)


def unusable_links(body: str) -> list[tuple[str, str]]:
    """(words, address) of each link an email program could not open: an address on this
    site ("/fair"), one without its scheme ("www.example.ac.uk") or of another scheme."""
    found: list[tuple[str, str]] = []
    for block in _markdown.parse(body):
        words: list[str] = []
        href: str | None = None
        for token in block.children or ():
            if token.type == "link_open":
                href, words = str(token.attrGet("href") or ""), []
            elif token.type == "link_close" and href is not None:
                if not _FULL_ADDRESS.match(href):
                    found.append(("".join(words) or href, href))
                href = None
            elif href is not None and token.content:
                words.append(token.content)
    return found


def markdown_to_html(body: str) -> str:
    """Safe HTML for a Markdown body."""
    return nh3.clean(
        _markdown.render(body),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def markdown_to_text(body: str) -> str:
    """A plain-text part from the same parse: blank lines between blocks, lists as lists,
    links as "words (address)", emphasis without its marks."""
    out: list[str] = []
    quotes = 0
    lists: list[list] = []  # [ordered, next number] for each list we are in
    marker = ""
    tight = False  # the paragraph being written is an item of a tight list
    after_item = False  # the last block written was in a list
    for token in _markdown.parse(body):
        kind = token.type
        if kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            ordered, number = lists[-1]
            marker = f"{number}. " if ordered else "- "
            lists[-1][1] += 1
        elif kind == "paragraph_open":
            tight = token.hidden
        elif kind in ("inline", "fence", "code_block", "hr", "heading_open"):
            if kind == "heading_open":
                continue
            if kind == "inline":
                text = _inline_text(token)
            elif kind == "hr":
                text = "-" * 40
            else:
                text = token.content.rstrip("\n")
            lead = ""
            if lists:
                # An item's first line carries its marker; its later paragraphs hang under it.
                lead = "  " * (len(lists) - 1) + (marker or " " * len(f"{lists[-1][1]}. "))
            lines = text.split("\n")
            hanging = " " * len(lead)
            lines = [lead + lines[0]] + [hanging + line for line in lines[1:]]
            block = "\n".join("> " * quotes + line for line in lines)
            if out:
                out.append("\n" if tight and lists and after_item else "\n\n")
            out.append(block)
            after_item = bool(lists)
            marker = ""
            tight = False
    return "".join(out).strip()


def _inline_text(token) -> str:
    out: list[str] = []
    hrefs: list[str] = []
    link_starts: list[int] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "link_open":
            hrefs.append(str(child.attrGet("href") or ""))
            link_starts.append(len(out))
        elif kind == "link_close":
            href = hrefs.pop()
            words = "".join(out[link_starts.pop() :])
            if href and href != words and f"mailto:{words}" != href:
                out.append(f" ({href})")
        elif kind == "image":
            out.append(child.content)
    return "".join(out)


def merge(text: str, contact, *, escape: bool) -> str:
    """Fill {{ first_name }}, {{ full_name }} and {{ organisation }} for one contact."""
    values = {
        "first_name": contact.full_name.split(" ")[0] if contact.full_name else "",
        "full_name": contact.full_name,
        "organisation": contact.organisation.name,
    }
    return mailmerge.fill(text, values, escape=escape)


def render_for(campaign, contact, *, events=(), unsubscribe_url: str = "") -> dict:
    """Subject, HTML and text of a campaign as `contact` will receive it."""
    context = {
        "campaign": campaign,
        "contact": contact,
        "body_html": merge(markdown_to_html(campaign.body), contact, escape=True),
        "body_text": merge(markdown_to_text(campaign.body), contact, escape=False),
        "events": list(events),
        "unsubscribe_url": unsubscribe_url,
        "site_url": settings.SITE_URL,
        "careers_centre": careers_centre_address(),
    }
    return {
        "subject": merge(campaign.subject, contact, escape=False),
        "html": render_to_string("mailing/email/campaign.html", context),
        "text": render_to_string("mailing/email/campaign.txt", context),
    }
