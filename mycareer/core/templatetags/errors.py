"""One summary of what to correct, for a page whose form comes in parts."""

from django import template

register = template.Library()


@register.inclusion_tag("core/includes/error_summary.html")
def error_summary(*forms, parts=()):
    """The rejected among `forms` and the forms of `parts` ((part, form) pairs, as the
    event form's other apps contribute them), listed under one heading: a heading per
    form said "Please correct…" twice, and the page focused only the first."""
    every = [*forms, *(form for _, form in parts)]
    return {"forms": [form for form in every if getattr(form, "errors", None)]}
