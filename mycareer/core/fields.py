"""Model fields shared by the apps."""

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from mycareer.core.text import newlines_only, single_line


class SingleLineCharField(models.CharField):
    """A CharField for names, titles and subjects: never holds a line break.

    Forms get `core.forms.SingleLineField`; a value set in code is cleaned when the
    model is validated and again when it is saved, so imports and services are covered
    too. In the database it is a plain CharField, so migrations record it as one.
    """

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return single_line(value) if isinstance(value, str) else value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = single_line(value)
            setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        from mycareer.core.forms import SingleLineField

        return super().formfield(**{"form_class": SingleLineField, **kwargs})


class _NewlinesOnly(DeferredAttribute):
    """The attribute of a `MultiLineTextField`: whatever sets it keeps "\n" line breaks."""

    def __set__(self, instance, value):
        if isinstance(value, str):
            value = newlines_only(value)
        instance.__dict__[self.field.attname] = value


class MultiLineTextField(models.TextField):
    """A TextField for what people write over several lines (a description, a note, a
    reason): its line breaks are "\n" however they came, set by a form, a service, the
    API or an import, or read as an older row stored them.

    The web's text boxes keep "\n" (`core.forms.MultiLineField`); the API took "\r\n"
    as sent, so the same text sent again, or saved unchanged from its page, counted as
    changed (an audit entry, an email to an event's people). Kept on the attribute,
    every comparison a service makes before saving sees the same text. In the database
    it is a plain TextField, so migrations record it as one.
    """

    descriptor_class = _NewlinesOnly

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs

    def formfield(self, **kwargs):
        from mycareer.core.forms import MultiLineField

        return super().formfield(**{"form_class": MultiLineField, **kwargs})
