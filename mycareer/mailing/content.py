"""A campaign's words for one recipient: safe HTML, a plain-text part, merge fields."""

import html
import re

import nh3
from django.conf import settings
from django.template.loader import render_to_string

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
MERGE_FIELDS = {
    "first_name": "The contact's first name",
    "full_name": "The contact's full name",
    "organisation": "The contact's organisation",
}


def clean_html(body: str) -> str:
    """Keep only simple formatting; plain text with blank lines becomes paragraphs."""
    if "<" not in body:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return nh3.clean(
        body,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def html_to_text(markup: str) -> str:
    """A readable plain-text version of the cleaned HTML."""
    text = re.sub(r"<a [^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", r"\2 (\1)", markup, flags=re.S)
    text = re.sub(r"<li[^>]*>", "- ", text)
    text = re.sub(r"</(p|h2|h3|li|blockquote)>|<br\s*/?>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def merge(text: str, contact, *, escape: bool) -> str:
    """Fill {{ first_name }}, {{ full_name }} and {{ organisation }} for one contact."""
    values = {
        "first_name": contact.full_name.split(" ")[0] if contact.full_name else "",
        "full_name": contact.full_name,
        "organisation": contact.organisation.name,
    }

    def replace(match: re.Match) -> str:
        value = values.get(match.group(1), match.group(0))
        return html.escape(value) if escape else value

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", replace, text)


def render_for(campaign, contact, *, events=(), unsubscribe_url: str = "") -> dict:
    """Subject, HTML and text of a campaign as `contact` will receive it."""
    body_html = merge(clean_html(campaign.body), contact, escape=True)
    context = {
        "campaign": campaign,
        "contact": contact,
        "body_html": body_html,
        "body_text": html_to_text(body_html),
        "events": list(events),
        "unsubscribe_url": unsubscribe_url,
        "site_url": settings.SITE_URL,
    }
    return {
        "subject": merge(campaign.subject, contact, escape=False),
        "html": render_to_string("mailing/email/campaign.html", context),
        "text": render_to_string("mailing/email/campaign.txt", context),
    }
