"""Who receives a campaign and who is left out, with the reason for each (policy 2.5).

`recipient_list()` is the one eligibility check; the campaign page, the confirmation,
the preview and the outbox all use it, so what the sender saw is what is sent.
Recipients come only from what the campaign stores: its search's filters, read strictly
(`OrganisationQuery.from_filters`), or the explicit choice of every employer contact.
Empty filters select nobody.
"""

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext

from mycareer.core.text import counted
from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.organisations.keyaccounts import (
    agreed_links,
    contact_blockers,
    key_contact_exclusion,
)
from mycareer.organisations.models import Contact, EmailOptOut, KeyContact, Organisation
from mycareer.organisations.optouts import opt_outs_by_address
from mycareer.organisations.search import (
    OrganisationQuery,
    search_organisations,
    unreadable_filters,
)


class Why:
    """Kinds of reason a contact is left out; the label heads the group on the page."""

    INACTIVE = "inactive"
    ERASED = "erased"
    NO_EMAIL = "no_email"
    OPTED_OUT = "opted_out"
    BOUNCED = "bounced"
    KEY_CONTACT = "key_contact"
    TOO_OFTEN = "too_often"
    DUPLICATE = "duplicate"
    BY_SENDER = "by_sender"

    LABELS = {
        INACTIVE: "organisation not active",
        ERASED: "erased at their request",
        NO_EMAIL: "no email address",
        OPTED_OUT: "opted out",
        BOUNCED: "email bounced before",
        KEY_CONTACT: "key contact without a liaison agreement",
        TOO_OFTEN: "emailed too often recently",
        DUPLICATE: "same address as another recipient",
        BY_SENDER: "left out by the sender",
    }
    # The same after a number ("2 key contacts without a liaison agreement"): singular
    # and plural, for ngettext.
    COUNTED = {
        INACTIVE: ("with their organisation not active",) * 2,
        ERASED: ("erased at their request",) * 2,
        NO_EMAIL: ("with no email address",) * 2,
        OPTED_OUT: ("opted out",) * 2,
        BOUNCED: ("whose email bounced before",) * 2,
        KEY_CONTACT: (
            "key contact without a liaison agreement",
            "key contacts without a liaison agreement",
        ),
        TOO_OFTEN: ("emailed too often recently",) * 2,
        DUPLICATE: ("with the same address as another recipient",) * 2,
        BY_SENDER: ("left out by the sender",) * 2,
    }


@dataclass(frozen=True)
class Exclusion:
    contact: Contact
    reason: str
    kind: str

    @property
    def label(self) -> str:
        return Why.LABELS[self.kind]


@dataclass
class RecipientList:
    included: list[Contact] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """Who is included, as a short text that changes whenever they do: a send is
        confirmed against it, since the same number can be other people."""
        people = sorted((c.pk, c.email.lower()) for c in self.included)
        return hashlib.sha256(repr(people).encode()).hexdigest()[:32]

    @property
    def reasons(self) -> Counter:
        """How many were left out for each kind of reason, labelled in words."""
        return Counter(e.label for e in self.excluded)

    @property
    def reason_counts(self) -> list[tuple[str, int]]:
        """How many were left out for each kind, most frequent first, in words that agree
        with their number, for a page to list."""
        counts = Counter(e.kind for e in self.excluded)
        return [(ngettext(*Why.COUNTED[kind], n), n) for kind, n in counts.most_common()]


def frequency_limit() -> tuple[int, int]:
    """(messages, days): no one gets more bulk email than this across the whole university."""
    return settings.MYCAREER["BULK_EMAIL_LIMIT"], settings.MYCAREER["BULK_EMAIL_LIMIT_DAYS"]


def contacts_for(query: OrganisationQuery) -> QuerySet[Contact]:
    """Every contact of the organisations the search selects, with what eligibility reads.

    Archived organisations that match are read too, so their contacts are listed as left
    out, with why: leaving them out of the search instead took them off a draft's page
    without a word when their organisation was archived. `recipient_list` never includes
    them.
    """
    matching = search_organisations(replace(query, include_archived=True), lists=False)
    return _with_eligibility(Contact.objects.filter(organisation__in=matching.values("pk")))


def _with_eligibility(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    return (
        contacts.select_related("organisation")
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


# The form's codes for a value it does not offer: a sector, size or unit removed since,
# or one typed into a link.
GONE_CHOICE = frozenset({"invalid_choice", "invalid_pk_value", "invalid_list"})


def filter_problems(problems: list[tuple[str, str]], *, stored: bool = False) -> str:
    """What is wrong with a search's filters, in a sender's words, from (label, why)
    pairs (`search.unreadable_filters`): "the “Sector” it chose is not in MyCareer".

    Only a campaign's stored search was read before, so only of it is a value "removed
    since"; a value typed into a link, or from a fixed list, may never have been there.
    """
    missing = "was removed since" if stored else "is not in MyCareer"
    said: list[str] = []
    for label, why in problems:
        if why == "unknown_filter":
            words = f"its filter “{label}” {missing}"
        elif why in GONE_CHOICE:
            words = f"the “{label}” it chose {missing}"
        else:
            words = f"its “{label}” filter cannot be read"
        if words not in said:
            said.append(words)
    return "; ".join(said) or "it cannot be read"


def search_problem(problems: list[tuple[str, str]], *, stored: bool, choose: str = "") -> str:
    """The end of the one sentence for a search that cannot be used: "[The search that
    chooses the recipients] no longer works: the “Sector” it chose was removed since.
    Choose the recipients again." (`choose` names what to choose again, if not the search.)"""
    works = "no longer works" if stored else "does not work"
    again = f"Choose {choose} again." if choose else "Choose again."
    return f"{works}: {filter_problems(problems, stored=stored)}. {again}"


def gone_in_words(problems: list[tuple[str, str]]) -> str:
    """A sent campaign's search that can no longer be read, said as a fact, not as a
    fault to mend: "A search by a sector since removed"."""
    said: list[str] = []
    for label, why in problems:
        what = "a filter" if why == "unknown_filter" else _with_article(label.lower())
        if what not in said:
            said.append(what)
    return f"A search by {' and '.join(said) or 'filters'} since removed"


def _with_article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def read_stored_search(filters: dict, *, viewer=None, stored: bool = False) -> OrganisationQuery:
    """A search that chooses recipients, read strictly; refused in a sender's words (which
    filter does not work, and to choose the recipients again), not the search form's
    "Sector: Select a valid choice. 16 is not one of the available choices.".

    `stored`: a campaign's own search, read before, whose values may have been removed
    since; otherwise filters just submitted.
    """
    try:
        return OrganisationQuery.from_filters(filters, viewer=viewer)
    except ValidationError as error:
        if getattr(error, "code", None) == "unknown_filter" and not stored:
            raise  # "The search has a filter it does not know: “sort”." says it already
        why = search_problem(unreadable_filters(filters), stored=stored, choose="the recipients")
        raise ValidationError(
            f"The search that chooses the recipients {why}", code="search_no_longer_works"
        ) from error


def campaign_query(campaign) -> OrganisationQuery | None:
    """The campaign's stored search, read strictly; None when it has no filters.

    Raises ValidationError when the stored filters are no longer valid (a sector that
    was removed, say): the campaign then reaches nobody until its recipients are chosen
    again.
    """
    if not campaign.recipient_filters:
        return None
    return read_stored_search(campaign.recipient_filters, viewer=campaign.sender, stored=True)


def campaign_contacts(campaign) -> QuerySet[Contact]:
    """The contacts a campaign's recipients choice selects, before eligibility."""
    if campaign.recipients_everyone:
        return _with_eligibility(Contact.objects.all())
    query = campaign_query(campaign)
    if query is None:
        return Contact.objects.none()
    return contacts_for(query)


def recent_messages(*, now: datetime.datetime) -> QuerySet[OutboxMessage]:
    """The bulk emails that count against the frequency limit at `now`.

    Messages waiting in the outbox or being sent count as much as those sent within the
    window: two campaigns queued at the same moment must not each include everyone. Only
    a campaign still going has them: a row a cancelled campaign left waiting never goes.
    """
    limit_days = frequency_limit()[1]
    return OutboxMessage.objects.filter(
        Q(
            status=OutboxMessage.Status.SENT,
            sent_at__gte=now - datetime.timedelta(days=limit_days),
        )
        | Q(
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING],
            campaign__status__in=[Campaign.Status.QUEUED, Campaign.Status.SENDING],
        )
    )


def recent_counts(emails, *, now: datetime.datetime, ignore_campaign=None) -> dict[str, int]:
    """Bulk emails each address has had or is about to have, across the university."""
    recent = recent_messages(now=now).filter(email__in=emails)
    if ignore_campaign is not None:
        recent = recent.exclude(campaign=ignore_campaign)
    rows = recent.order_by().values("email").annotate(n=Count("id"))
    return {row["email"]: row["n"] for row in rows}


@dataclass
class AddressFacts:
    """What other records of the recipients' addresses say about each address."""

    # address -> why it is left out: a protected key contact on another record
    protected: dict[str, str] = field(default_factory=dict)
    # address -> when a message to it bounced, on any record
    bounced: dict[str, datetime.datetime] = field(default_factory=dict)


def address_facts(emails: set[str], sender) -> AddressFacts:
    """Key contacts and bounces are the address's, whichever record holds them.

    A key contact is a person: the same address as a contact of another organisation
    (a group's second record, someone listed twice) must not take a bulk email that
    their owner has not agreed to; and an address that bounced bounces on every record.
    Three queries: the records, and the agreements in force for all their links.
    """
    facts = AddressFacts()
    if not emails:
        return facts
    records = _with_eligibility(
        Contact.objects.annotate(address=Lower("email")).filter(
            Q(pk__in=KeyContact.objects.values("contact_id")) | Q(email_bounced_at__isnull=False),
            address__in=emails,
        )
    )
    records = list(records)
    agreed = agreed_links(sender, [link for record in records for link in record.key_links_list])
    for record in records:
        address = record.email.lower()
        if bounced := record.email_bounced_at:
            facts.bounced[address] = max(bounced, facts.bounced.get(address, bounced))
        if address in facts.protected or not record.key_links_list:
            continue
        blockers = contact_blockers(contact=record, user=sender, bulk=True, agreed=agreed)
        if blockers:
            owners = ", ".join(str(b.key_account.operator) for b in blockers)
            facts.protected[address] = (
                f"excluded: the same address is a key contact of {owners} at "
                f"{record.organisation}, no liaison agreement"
            )
    return facts


def recipient_list(
    contacts,
    *,
    sender,
    purpose: str,
    ignore_campaign=None,
    left_out: dict | None = None,
    now: datetime.datetime | None = None,
) -> RecipientList:
    """Split contacts into those who will receive the email and those left out, with why.

    `left_out` maps contact ids to the sender's own reason for leaving them out.
    """
    now = now or timezone.now()
    contacts = list(contacts)
    left_out = left_out or {}
    limit, days = frequency_limit()
    counts = recent_counts(
        {c.email.lower() for c in contacts if c.email}, now=now, ignore_campaign=ignore_campaign
    )
    keeping_out = EmailOptOut.keeping_out(purpose)
    # An opt-out is the address's: another record of it, or one deleted, counts too.
    by_address = opt_outs_by_address(c.email for c in contacts)
    facts = address_facts({c.email.lower() for c in contacts if c.email}, sender)
    # The agreements in force for every key contact among them, read once.
    agreed = agreed_links(sender, [link for c in contacts for link in c.key_links_list])
    result = RecipientList()
    seen: dict[str, Contact] = {}
    for contact in contacts:
        email = contact.email.lower()
        opted = {o.purpose for o in contact.opt_outs.all()} | by_address.get(email, set())
        reason = kind = None
        if contact.organisation.status != Organisation.Status.ACTIVE:
            organisation = contact.organisation
            status = organisation.get_status_display().lower()
            reason = f"not a contact of an active organisation: {organisation} is {status}"
            kind = Why.INACTIVE
        elif contact.erased_at is not None:
            # Not "no email address", which a sender might mend: the person asked to go.
            reason = f"erased at their request on {_day(contact.erased_at)}"
            kind = Why.ERASED
        elif not email:
            reason, kind = "no email address", Why.NO_EMAIL
        elif kept_by := opted & keeping_out:
            chosen = min(kept_by, key=EmailOptOut.Purpose.values.index)
            reason = f"opted out: {EmailOptOut.Purpose(chosen).label.lower()}"
            kind = Why.OPTED_OUT
        elif bounced_at := contact.email_bounced_at or facts.bounced.get(email):
            reason = f"bounced before: on {_day(bounced_at)}"
            kind = Why.BOUNCED
        elif exclusion := key_contact_exclusion(
            contact=contact, sender=sender, agreed=agreed
        ) or facts.protected.get(email):
            reason, kind = exclusion, Why.KEY_CONTACT
        elif counts.get(email, 0) >= limit:
            # A limit of 0 (BULK_EMAIL_LIMIT=0) lets nobody be sent any, emailed or not.
            reason = (
                f"emailed too often: {counted(counts[email], 'bulk email', 'bulk emails')} "
                f"in the last {days} days or on their way"
                if counts.get(email, 0)
                else f"the limit allows no bulk email in {days} days"
            )
            kind = Why.TOO_OFTEN
        elif contact.pk in left_out:
            reason, kind = f"left out by the sender: {left_out[contact.pk]}", Why.BY_SENDER
        elif email in seen:
            reason = f"duplicate address: sent once, to {seen[email].full_name}"
            kind = Why.DUPLICATE
        if reason:
            result.excluded.append(Exclusion(contact, reason, kind))
        else:
            seen[email] = contact
            result.included.append(contact)
    return result


def _day(when: datetime.datetime) -> str:
    """The day as the reader's clock has it: stored in UTC, 23:30 on 30 June is 1 July."""
    return date_format(timezone.localtime(when), "j F Y")
