"""Sent campaigns spread over the past year, so the time chart has a story to tell."""

import datetime
import random

from django.utils import timezone

from mycareer.mailing.models import Campaign, OutboxMessage
from mycareer.organisations.models import Contact, Organisation

# (days ago, unit code, subject, purpose, share of contacts reached)
HISTORY = [
    (340, "careers", "Book your stand at the autumn careers fair", "events", 0.7),
    (305, "lubs", "Business School insight days: offer a day", "events", 0.35),
    (280, "careers", "Careers service newsletter: autumn", "newsletters", 0.6),
    (250, "mech", "Industrial placements 2026/27: take a student", "vacancies", 0.25),
    (215, "careers", "Spring careers fair: exhibitor booking open", "events", 0.65),
    (190, "eps", "Engineering employer breakfast", "events", 0.3),
    (160, "careers", "Careers service newsletter: spring", "newsletters", 0.55),
    (120, "lubs", "Graduate recruitment: advertise your roles", "vacancies", 0.4),
    (95, "ahc", "Creative industries networking evening", "events", 0.2),
    (60, "careers", "Careers service newsletter: summer", "newsletters", 0.5),
    (30, "careers", "Autumn careers fair and three faculty events in one email", "events", 0.6),
    (9, "lubs", "Supply-chain masterclass: speakers wanted", "events", 0.3),
    (4, "careers", "Winter graduate fair: last stands", "events", 0.35),
]


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
    for days_ago, unit, subject, purpose, share in HISTORY:
        sent_at = now - datetime.timedelta(days=days_ago, hours=rng.randint(0, 8))
        campaign = Campaign.objects.create(
            sender=sender if unit in {"lubs", "careers"} else cast["admin"],
            unit=units[unit],
            purpose=purpose,
            subject=subject,
            body=f"<p>Dear {{{{ first_name }}}},</p><p>{subject}.</p>",
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
