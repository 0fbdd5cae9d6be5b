"""Who receives a campaign and who is left out, with the reason for each (policy 2.5).

`recipient_list()` is the one eligibility check; the campaign page, the preview and the
outbox all use it, so what the sender saw is what is sent.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from mycareer.organisations.keyaccounts import key_contact_exclusion
from mycareer.organisations.models import Contact, EmailOptOut, KeyContact, Organisation


@dataclass(frozen=True)
class Exclusion:
    contact: Contact
    reason: str


@dataclass
class RecipientList:
    included: list[Contact] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)

    @property
    def reasons(self) -> Counter:
        return Counter(e.reason.split(":")[0] for e in self.excluded)


def frequency_limit() -> tuple[int, int]:
    """(messages, days): no one gets more bulk email than this across the whole university."""
    return settings.MYCAREER["BULK_EMAIL_LIMIT"], settings.MYCAREER["BULK_EMAIL_LIMIT_DAYS"]


def organisations_for_query(query: str) -> QuerySet[Organisation]:
    """The organisations a saved or ad-hoc search selects (the search page's query string)."""
    from mycareer.organisations.search import OrganisationQuery, search_organisations

    return search_organisations(OrganisationQuery.from_querystring(query))


def contacts_for_query(query: str) -> QuerySet[Contact]:
    """Every contact of the organisations the search selects, with what eligibility reads."""
    organisations = organisations_for_query(query).values("pk")
    return (
        Contact.objects.filter(organisation__in=organisations)
        .select_related("organisation")
        .prefetch_related(
            "opt_outs",
            Prefetch(
                "key_links",
                queryset=KeyContact.objects.select_related(
                    "key_account__operator", "key_account__unit"
                ),
            ),
        )
        .order_by("organisation__name", "full_name", "pk")
    )


def recipient_list(
    contacts, *, sender, purpose: str, ignore_campaign=None, now: datetime.datetime | None = None
) -> RecipientList:
    """Split contacts into those who will receive the email and those left out, with why."""
    from mycareer.mailing.models import OutboxMessage

    now = now or timezone.now()
    contacts = list(contacts)
    limit, days = frequency_limit()
    emails = {c.email.lower() for c in contacts if c.email}
    recent = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENT,
        sent_at__gte=now - datetime.timedelta(days=days),
        email__in=emails,
    )
    if ignore_campaign is not None:
        recent = recent.exclude(campaign=ignore_campaign)
    counts = {row["email"]: row["n"] for row in recent.values("email").annotate(n=Count("id"))}
    result = RecipientList()
    seen: dict[str, Contact] = {}
    for contact in contacts:
        email = contact.email.lower()
        opted = {o.purpose for o in contact.opt_outs.all()}
        reason = None
        if contact.organisation.status != Organisation.Status.ACTIVE:
            reason = "not a contact of an active organisation"
        elif not email:
            reason = "no email address"
        elif EmailOptOut.Purpose.ALL in opted:
            reason = "opted out: all bulk email"
        elif purpose in opted:
            reason = f"opted out: {EmailOptOut.Purpose(purpose).label.lower()}"
        elif contact.email_bounced_at:
            reason = f"bounced before: on {contact.email_bounced_at:%-d %B %Y}"
        elif exclusion := key_contact_exclusion(contact=contact, sender=sender):
            reason = exclusion
        elif counts.get(email, 0) >= limit:
            reason = f"emailed too often: {counts[email]} bulk emails in the last {days} days"
        elif email in seen:
            reason = f"duplicate address: sent once, to {seen[email].full_name}"
        if reason:
            result.excluded.append(Exclusion(contact, reason))
        else:
            seen[email] = contact
            result.included.append(contact)
    return result
