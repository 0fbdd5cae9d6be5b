from django import forms

from mycareer.accounts.models import Unit
from mycareer.api.models import Scope, scope_label
from mycareer.core.forms import IdChoiceField, SingleLineField

LIFETIMES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "A year")]


class TokenForm(forms.Form):
    name = SingleLineField(
        max_length=100, help_text="What will use it, e.g. “Notes import script”."
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        label="It may",
        help_text="It can never do more than you may do yourself.",
    )
    days = forms.TypedChoiceField(
        choices=LIFETIMES, coerce=int, initial=90, label="It stops working after"
    )

    def __init__(self, *args, scopes: list[str] | None = None, kind: str = "", **kwargs):
        """`scopes`: the only ones offered (those the owner's kind of account may give),
        said as they are for that `kind` of account."""
        super().__init__(*args, **kwargs)
        if scopes is not None:
            field = self.fields["scopes"]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = [
                (value, scope_label(value, kind)) for value in Scope.values if value in scopes
            ]


class ServiceTokenForm(TokenForm):
    unit = IdChoiceField(
        queryset=Unit.objects.order_by("name"),
        help_text="The unit whose system uses the token.",
    )

    field_order = ["unit", "name", "scopes", "days"]
