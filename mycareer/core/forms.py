from django import forms


class LocalDateTimeInput(forms.DateTimeInput):
    """A native date-and-time picker; the value is read in the site's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
