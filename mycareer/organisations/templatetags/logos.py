from django import template
from django.utils.html import format_html

register = template.Library()

# Words that say what kind of organisation it is, not which one.
_SKIPPED = {"ltd", "limited", "plc", "llp", "inc", "the", "of", "and", "&", "uk", "group"}


def initials(name: str) -> str:
    """Up to two letters for a badge: "Northbridge Engineering Ltd" -> "NE"."""
    words = [w for w in name.replace("-", " ").split() if w.lower().strip(".,") not in _SKIPPED]
    letters = [w[0] for w in (words or name.split()) if w[:1].isalnum()]
    return "".join(letters[:2]).upper() or "?"


@register.simple_tag
def logo(organisation, size: int = 48):
    """The organisation's logo, or its initials on a badge, beside its name.

    Decorative (empty alt, hidden badge): the organisation's name is always written
    next to it, and a screen reader need not hear it twice.
    """
    if organisation.logo:
        return format_html(
            '<img class="logo" src="{}" alt="" width="{}" height="{}" loading="lazy">',
            organisation.logo.url,
            size,
            size,
        )
    return format_html(
        '<span class="logo logo--initials logo--{}" aria-hidden="true">{}</span>',
        size,
        initials(organisation.name),
    )
