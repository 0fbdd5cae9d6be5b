"""Emails to staff about their work, sent as each person chose: now, daily, or not at all.

Each app registers the kinds of notification it sends (in `AppConfig.ready()`) and
sends them through `notify()`. Staff choose on their profile which optional kinds they
receive and whether they come as they happen or in one daily digest; a few kinds (their
own training running out) cannot be switched off.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from mycareer.accounts.models import NotificationMode, PendingNotification, User
from mycareer.core.logs import log_event
from mycareer.core.mail import already_sent, mark_sent, reached, render_text, send_email
from mycareer.core.text import counted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationKind:
    code: str  # "organisations.liaison_request"
    label: str  # what it is about, as the profile lists it
    optional: bool = True
    # Sent as it happens even to someone who chose the daily digest: an alert that
    # something is broken is no use the next morning.
    at_once: bool = False


_kinds: dict[str, NotificationKind] = {}


def register_notification_kind(kind: NotificationKind) -> None:
    _kinds[kind.code] = kind


def notification_kinds(*, optional_only: bool = False) -> list[NotificationKind]:
    """The kinds in the order the apps registered them, so each app's stay together."""
    kinds = list(_kinds.values())
    return [k for k in kinds if k.optional] if optional_only else kinds


def wants(user: User, code: str) -> bool:
    """Whether this person receives this kind of notification at all."""
    kind = _kinds[code]
    return not kind.optional or code not in (user.notifications_off or [])


def notify(
    *,
    user: User,
    kind: str,
    subject: str,
    template: str,
    context: dict,
    reply_to: list[str] | None = None,
    once: str = "",
) -> int:
    """Tell a member of staff about something, as they chose. Returns the emails sent now.

    `once` names the list this person is one of (see core.mail): a task that runs again
    neither emails them again nor queues a second digest item.
    """
    if kind not in _kinds:
        raise ValueError(f"Unknown notification kind {kind!r}: register it first.")
    if not user.is_active or not user.email:
        return 0
    if not wants(user, kind):
        log_event(logger, "notification.skipped", kind=kind, user=user.pk, reason="switched off")
        return 0
    in_digest = user.notification_mode == NotificationMode.DIGEST and not _kinds[kind].at_once
    # A digest comes from MyCareer, not from the colleague: "reply to this email" would
    # not reach them, so the template names their address instead.
    reply = {"in_digest": in_digest, "reply_address": reply_to[0] if reply_to else ""}
    body = render_text(template, {**context, **reply}).rstrip()
    if in_digest:
        if already_sent(once, [user.email]):
            return 0
        PendingNotification.objects.create(user=user, kind=kind, subject=subject, body=body)
        mark_sent(once, [user.email], user_id=user.pk)
        log_event(logger, "notification.queued", kind=kind, user=user.pk)
        return 0
    return send_email(
        to=[user.email],
        subject=subject,
        body=f"{body}\n\n{_choices_footer(_kinds[kind])}",
        reply_to=reply_to,
        kind=kind,
        once=once,
        user_id=user.pk,
    )


def people_reached(once: str) -> list[User]:
    """The people the list `once` reached, each once: by who they were, whatever their
    address is now; a marker written before people were recorded, by its address."""
    markers = reached(once)
    ids = {user_id for user_id, _ in markers if user_id is not None}
    addresses = {recipient for user_id, recipient in markers if user_id is None}
    found = User.objects.filter(pk__in=ids) | User.objects.filter(email__in=addresses)
    return list(found.distinct().order_by("full_name", "pk"))


def _choices_footer(kind: NotificationKind) -> str:
    profile = f"{settings.SITE_URL}{reverse('accounts:profile')}"
    if not kind.optional:
        # The profile offers no way to turn this kind off: do not promise one.
        return (
            "--\nMyCareer always sends this email. You can choose which others it sends "
            f"you, and whether they come as they happen or once a day: {profile}"
        )
    return (
        "--\nYou can choose which of these emails MyCareer sends you, and whether they "
        f"come as they happen or once a day: {profile}"
    )


def send_digests() -> int:
    """Send each person with waiting notifications one email holding them all."""
    people = (
        PendingNotification.objects.filter(sent_at__isnull=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(people):
        sent += _send_digest(user_id)
    return sent


def send_waiting(user_id: int) -> int:
    """Someone who no longer wants a digest gets what waited for it now, not the next
    morning in a digest that says they chose one."""
    return _send_digest(user_id, waited=True)


def _send_digest(user_id: int, *, waited: bool = False) -> int:
    with transaction.atomic():
        items = list(
            PendingNotification.objects.select_for_update()
            .filter(user_id=user_id, sent_at__isnull=True)
            .select_related("user")
        )
        if not items:
            return 0
        user = items[0].user
        # A kind switched off since its item was queued is not sent: unticking it on the
        # profile means "no more emails about this", the waiting ones included.
        wanted = [item for item in items if item.kind not in _kinds or wants(user, item.kind)]
        if wanted and user.is_active and user.email:
            send_email(
                to=[user.email],
                subject=f"Your daily digest: {counted(len(wanted), 'update', 'updates')}",
                template="accounts/email/digest.txt",
                context={"user": user, "items": wanted, "waited": waited},
            )
        # Removed only once the mail server took the digest: a failed send is retried
        # with the next digest, and nothing is sent twice. Not kept once sent: the items
        # name colleagues and employer contacts, and nothing reads them again.
        PendingNotification.objects.filter(pk__in=[i.pk for i in items]).delete()
    if not wanted:
        log_event(logger, "notification.skipped", user=user_id, reason="switched off")
        return 0
    log_event(logger, "notification.digest_sent", user=user_id, items=len(wanted))
    return 1
