from django import template

from mycareer.audit.letter import shown as shown_value

register = template.Library()


@register.filter
def shown(value) -> str:
    """A fact of the subject access letter in words: dates written out, Yes and No."""
    return shown_value(value)
