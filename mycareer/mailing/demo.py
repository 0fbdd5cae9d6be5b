"""Bulk email over the past year, so the time chart has a story to tell, one address that
bounced, and a draft that Grace Okafor is still writing: its recipients chosen by a
search, an events cross-promotion, one contact she left out."""

import datetime
import random

from django.utils import timezone

from mycareer.mailing.models import Campaign, LeftOut, OutboxMessage
from mycareer.mailing.services import campaign_recipients
from mycareer.organisations.models import Contact, Organisation

# (days ago, unit code, subject, purpose, share of contacts reached, recipient filters)
# Never more than 27 days apart (and each up to 8 hours earlier): every month from the
# oldest to the last has a campaign, whatever the day the demo is seeded.
HISTORY = [
    (306, "careers", "Book your stand at the autumn careers fair", "events", 0.7, {"tags_any": ["Graduate recruiter", "Careers fair exhibitor"]}),
    (279, "lubs", "Business School insight days: offer a day", "events", 0.35, {"tags_any": ["Insight days"]}),
    (252, "careers", "Careers service newsletter: autumn", "newsletters", 0.6, {"key_account": "no"}),
    (225, "mech", "Industrial placements 2026/27: take a student", "vacancies", 0.25, {"tags_all": ["Placements"]}),
    (198, "careers", "Spring careers fair: exhibitor booking open", "events", 0.65, {"tags_any": ["Graduate recruiter", "Careers fair exhibitor"]}),
    (171, "eps", "Engineering employer breakfast", "events", 0.3, {"text": "Engineering"}),
    (144, "careers", "Careers service newsletter: spring", "newsletters", 0.55, {"key_account": "no"}),
    (117, "lubs", "Graduate recruitment: advertise your roles", "vacancies", 0.4, {"tags_any": ["Graduate recruiter"]}),
    (90, "ahc", "Creative industries networking evening", "events", 0.2, {"tags_any": ["Arts"]}),
    (63, "careers", "Careers service newsletter: summer", "newsletters", 0.5, {"key_account": "no"}),
    (36, "careers", "Autumn careers fair and three faculty events in one email", "events", 0.6, {"tags_any": ["Graduate recruiter", "Placements"]}),
    (9, "lubs", "Supply-chain masterclass: speakers wanted", "events", 0.3, {"tags_any": ["Graduate recruiter"]}),
    (4, "careers", "Winter graduate fair: last stands", "events", 0.35, {"tags_any": ["Careers fair exhibitor"]}),
]  # fmt: skip

DRAFT_SUBJECT = "Volunteering fair: meet students who want to help"
DRAFT_BODY = """Dear {{ first_name }},

The university's **volunteering fair** is coming up, and we would love {{ organisation }} to be there.

- a free stand for the afternoon
- students from every faculty looking for volunteering roles
- the fair is open to the public too

Reply to this email to book a stand, or follow the link below for the details.

Best wishes,
Grace Okafor
Business School careers team"""


def seed_campaigns(cast: dict) -> None:
    if Campaign.objects.exists():
        return
    rng = random.Random(7)
    units = cast["units"]
    sender = cast["staff"]["mailer@demo.ac.uk"]
    contacts = list(
        Contact.objects.filter(organisation__status=Organisation.Status.ACTIVE)
        .exclude(email="")
        .order_by("pk")
    )
    now = timezone.now()
    for days_ago, unit, subject, purpose, share, filters in HISTORY:
        sent_at = now - datetime.timedelta(days=days_ago, hours=rng.randint(0, 8))
        campaign = Campaign.objects.create(
            sender=sender if unit in {"lubs", "careers"} else cast["admin"],
            unit=units[unit],
            purpose=purpose,
            subject=subject,
            body=f"Dear {{{{ first_name }}}},\n\n{subject}.",
            recipient_filters=filters,
            status=Campaign.Status.SENT,
            created_at=sent_at - datetime.timedelta(days=2),
            queued_at=sent_at,
            finished_at=sent_at + datetime.timedelta(minutes=12),
        )
        chosen = rng.sample(contacts, max(1, int(len(contacts) * share)))
        OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    campaign=campaign,
                    contact=contact,
                    email=contact.email.lower(),
                    organisation_id_at_send=contact.organisation_id,
                    status=OutboxMessage.Status.SENT,
                    sent_at=sent_at + datetime.timedelta(seconds=i),
                    attempts=1,
                )
                for i, contact in enumerate(chosen)
            ],
            ignore_conflicts=True,
        )
    _seed_bounce(campaign)
    _seed_draft(cast, sender)


def _seed_bounce(campaign: Campaign) -> None:
    """One address of the latest campaign bounced: its failure is on the campaign's page,
    later bulk email leaves it out, and its contact's page offers to correct it."""
    message = campaign.messages.order_by("-pk").select_related("contact").first()
    if message is None or message.contact is None:
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.FAILED,
        sent_at=None,
        error=f"550 5.1.1 <{message.email}>: Recipient address rejected: mailbox unavailable",
    )
    Contact.objects.filter(pk=message.contact.pk).update(email_bounced_at=message.sent_at)


def _seed_draft(cast: dict, sender) -> None:
    """Grace's draft: volunteering organisations, the fair promoted, one contact left out."""
    fair = cast.get("events", {}).get("Volunteering fair")
    draft = Campaign.objects.create(
        sender=sender,
        unit=cast["units"]["lubs"],
        purpose=Campaign.Purpose.EVENTS,
        subject=DRAFT_SUBJECT,
        body=DRAFT_BODY,
        recipient_filters={"tags_any": ["Volunteering", "Social impact"]},
        promoted_events=[fair.pk] if fair else [],
    )
    # Someone who would otherwise receive it, so the page shows the sender's own reason.
    included = campaign_recipients(draft).included
    if included:
        LeftOut.objects.create(
            campaign=draft,
            contact=included[len(included) // 2],
            reason="Already booked a stand by phone",
            by=sender,
        )
