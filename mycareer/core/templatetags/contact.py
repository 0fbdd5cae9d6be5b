"""How a page reaches the Careers Centre where no view gives it the address (allauth's)."""

from django import template

from mycareer.core.mail import careers_centre_address as address

register = template.Library()


@register.simple_tag
def careers_centre_address() -> str:
    return address()
