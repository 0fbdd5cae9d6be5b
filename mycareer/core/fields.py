"""Model fields shared by the apps."""

from django.db import models

from mycareer.core.text import single_line


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
