"""``{% jinja %}``: a part of a page drawn by Jinja2, for the parts drawn many times over.

    {% load jinja %}
    {% jinja "organisations/search_rows.html" page=page %}

The template is found where the form renderer finds its own (`core/jinja2`, then each
app's `jinja2/` folder) and sees only the variables given. A list's rows are the place
for it: the template language's cost per tag, met in every cell of 25 rows, was more than
half the organisations list's drawing (5.1 of 9.1 ms).
"""

from django import template
from django.forms.renderers import get_default_renderer
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def jinja(template_name: str, **variables) -> str:
    drawn = get_default_renderer().get_template(template_name).render(variables)
    return mark_safe(drawn)  # noqa: S308 (Jinja2 escaped what it drew)
