"""The Jinja2 environment of the parts of pages drawn most often (see `core.forms.FormRenderer`).

Pages are Django templates; a form's fields and a list's rows are Jinja2, where the
template language's cost per tag met the most tags. The environment has the one filter
those parts need that Jinja2 lacks: `date`, Django's own, so a date reads the same in
either.
"""

from django.template.defaultfilters import date
from jinja2 import Environment


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # always on, whatever a backend's settings say
    env = Environment(autoescape=True, **options)
    env.filters["date"] = date
    return env
