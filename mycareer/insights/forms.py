import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone

from mycareer.accounts.models import Unit, User
from mycareer.core.forms import DateInput, IdChoiceField
from mycareer.insights.selectors import unit_family
from mycareer.insights.trends import DIMENSIONS, MEASURES, TrendQuery
from mycareer.mailing.forms import PeriodForm

# A follow-up from an opportunity is due this many days later unless changed.
FOLLOW_UP_IN_DAYS = 7


def colleagues_of(user):
    """Who a follow-up may be given to: oneself, and staff of one's units or units within them."""
    units = unit_family(user.memberships.values("unit_id"))
    return (
        User.objects.filter(
            Q(pk=user.pk) | Q(kind=User.Kind.STAFF, is_active=True, memberships__unit__in=units)
        )
        .distinct()
        .order_by("full_name")
    )


class FollowUpForm(forms.Form):
    due_on = forms.DateField(label="Follow up by", widget=DateInput())
    assignee = IdChoiceField(
        label="Who follows up", queryset=User.objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "due_on": timezone.localdate() + datetime.timedelta(days=FOLLOW_UP_IN_DAYS),
                "assignee": user.pk,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues_of(user)


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why set it aside",
        max_length=500,
        help_text="Colleagues see this; it comes back after the days shown above.",
    )


class TrendForm(PeriodForm):
    """What a trend chart shows: a measure, by a dimension, over a span, for a unit or all."""

    measure = forms.ChoiceField(
        label="Count",
        choices=[(name, measure.label) for name, measure in MEASURES.items()],
        required=False,
    )
    dimension = forms.ChoiceField(
        label="By",
        choices=[(name, dimension.label) for name, dimension in DIMENSIONS.items()],
        required=False,
    )
    unit = forms.ModelChoiceField(
        label="Engaged by",
        queryset=Unit.objects.all(),
        required=False,
        empty_label="The whole university",
        help_text="A unit counts what it and the units within it did.",
    )

    DEFAULTS = {"measure": "notes", "dimension": "unit", "period": "month", "months": 24}

    def query(self) -> TrendQuery | None:
        """The chart asked for; None while a filter is wrong or unknown (its errors show),
        never the whole university's figures in place of those asked for."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return TrendQuery(
            measure=data["measure"],
            dimension=data["dimension"],
            period=data["period"],
            months=data["months"],
            unit=data["unit"].pk if data["unit"] else None,
        )
