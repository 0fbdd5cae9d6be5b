from django import template
from django.utils.html import format_html

register = template.Library()


def initials(name: str) -> str:
    """ "Tom Bennett" -> "TB"; one letter for one name."""
    parts = [p for p in name.split() if p[:1].isalpha()]
    if not parts:
        return "?"
    return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()


@register.simple_tag
def avatar(person, size: int = 48):
    """A person's photo, or their initials on a badge. Decorative: the name is beside it."""
    if getattr(person, "photo", None):
        return format_html(
            '<img class="avatar" src="{}" alt="" width="{}" height="{}" loading="lazy">',
            person.photo.url,
            size,
            size,
        )
    return format_html(
        '<span class="avatar avatar--initials avatar--{}" aria-hidden="true">{}</span>',
        size,
        initials(str(person)),
    )


@register.inclusion_tag("accounts/includes/staff_card.html")
def staff_card(person, role: str = "", when_left: str = ""):
    """A member of staff as colleagues see them: photo or initials, how to reach them.

    Someone who has left (their login is closed) keeps their name, marked so, and no way
    to reach them: nobody reads that inbox. `when_left` says what to do instead.
    """
    return {"person": person, "role": role, "when_left": when_left}
