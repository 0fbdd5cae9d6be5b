from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def contact_name(contact, link: bool = True, owner: bool = True):
    """A contact's name as shown everywhere: key contacts end in * with their owner beside them.

    Stripped, so that the punctuation written after the tag follows the name directly.
    """
    html = render_to_string(
        "organisations/includes/contact_name.html",
        {"contact": contact, "links": contact.key_links_list, "link": link, "owner": owner},
    )
    return mark_safe(html.strip())  # noqa: S308 (rendered with autoescape on)


@register.filter
def without_final_stop(text: str) -> str:
    """Free text placed mid-sentence: its own full stop would double the sentence's."""
    return str(text).rstrip().rstrip(".")
