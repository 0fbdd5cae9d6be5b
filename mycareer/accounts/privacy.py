"""People's logins in subject access and erasure.

Erasing a login keeps the row (bookings, training and access figures keep their counts)
but it says nothing about the person: no name, email, phone or student number, no
password, no second factor, no way back in.
"""

import datetime
import re

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from mycareer.accounts.erased import erased_identifiers_remember, identifiers_of
from mycareer.accounts.models import (
    AccessGrant,
    DegreeProgramme,
    NotificationMode,
    PendingNotification,
    StaffMembership,
    StudentProfile,
    TermsAcceptance,
    TrainingRecord,
    TrainingSession,
    Unit,
    User,
    new_feed_token,
)
from mycareer.audit.erasure import REPLACEMENTS
from mycareer.audit.personal_data import (
    ERASED_PERSON,
    Change,
    LetterEntry,
    PersonalDataHandler,
    TextPlace,
    in_words,
)
from mycareer.core.mail import EMAIL_RECORDS_KEPT
from mycareer.core.models import FailedTask, SentEmail

ORIGIN = {
    User.Kind.STAFF: "Created by the Careers Centre when you were given access to MyCareer",
    User.Kind.STUDENT: "From the university's student records when you enrolled",
    User.Kind.EMPLOYER: "From you, when you registered or accepted an invitation",
}


def _failed_logins(subject):
    emails = subject.emails
    if not emails:
        return [m.objects.none() for m in (AccessAttempt, AccessFailureLog, AccessLog)]
    condition = Q()
    for email in emails:
        condition |= Q(username__iexact=email)
    return [m.objects.filter(condition) for m in (AccessAttempt, AccessFailureLog, AccessLog)]


FAILED_TASK_TEXT = ("recipients", "error", "traceback")


def _emails_sent(subject) -> tuple[QuerySet, dict[int, dict[str, str]]]:
    """Records of MyCareer's own emails to the person's addresses, beyond their logins':
    a contact record's marks that a list reached it (the attendance figures), and the
    failed emails page's rows that name an address in their recipients or the refusal,
    each with its text as it becomes ({task id: {field: text}})."""
    logins = {user.email.strip().lower() for user in subject.users}
    reached = SentEmail.objects.filter(recipient__in=subject.emails - logins)
    named = Q(pk__in=[])
    for email in subject.emails:
        for name in FAILED_TASK_TEXT:
            named |= Q(**{f"{name}__icontains": email})
    failed = {}
    for task in FailedTask.objects.filter(named):
        before = {name: getattr(task, name) for name in FAILED_TASK_TEXT}
        after = {name: _without(text, subject.emails) for name, text in before.items()}
        if after != before:
            failed[task.pk] = after
    return reached, failed


def _email_records_cutoff() -> datetime.datetime:
    return timezone.now() - EMAIL_RECORDS_KEPT


def old_sent_markers_due() -> QuerySet:
    """Marks that a list reached an address, past the time a retry of the list could come."""
    return SentEmail.objects.filter(sent_at__lt=_email_records_cutoff())


def old_failed_emails_due() -> QuerySet:
    """Emails given up on (their addresses and the server's refusal), long past trying again."""
    return FailedTask.objects.filter(failed_at__lt=_email_records_cutoff())


def remove_email_records(rows: QuerySet) -> int:
    count, _ = rows.delete()
    return count


def _without(text: str, emails: set[str]) -> str:
    """`text` with each of the addresses replaced where it stands whole, as erasure finds
    them in notes: "jo@acme.example" inside "mojo@acme.example" is someone else's."""
    for email in emails:
        whole = r"(?<![\w.+@-])" + re.escape(email) + r"(?![\w@-]|\.\w)"
        text = re.sub(whole, REPLACEMENTS["email"], text, flags=re.IGNORECASE)
    return text


def anonymise_logins(subject, *, apply: bool, by=None) -> list[Change]:
    """Plan or make the changes to the person's logins (see the module docstring)."""
    changes: list[Change] = []
    now = timezone.now()
    for user in subject.users:
        kind = user.get_kind_display().lower()
        changes.append(
            Change(
                f"Login ({kind})",
                "name, email address, university identifier, phone and job title removed; "
                "password, calendar feed "
                "address and sign-in sessions no longer work; the login is closed",
            )
        )
        addresses = EmailAddress.objects.filter(user=user)
        factors = Authenticator.objects.filter(user=user)
        university_sign_in = SocialAccount.objects.filter(user=user)
        waiting = PendingNotification.objects.filter(user=user)
        reached = SentEmail.objects.filter(Q(user=user) | Q(recipient=user.email.lower()))
        has_profile = bool(user.photo or user.about)
        profile = StudentProfile.objects.filter(user=user)
        grant = AccessGrant.objects.filter(user=user, revoked_at__isnull=True)
        kept = TrainingRecord.objects.filter(user=user).count()
        kept += TermsAcceptance.objects.filter(user=user).count()
        for rows, what, how in (
            (addresses, "Email addresses of the login", "removed"),
            (factors, "Two-step sign-in", "removed"),
            (university_sign_in, "Link to the university's sign-in", "removed"),
            (profile, "Student record", "student number and expected graduation removed"),
            (grant, "Access level", "revoked"),
            (waiting, "Notifications waiting for a daily digest", "removed"),
            (reached, "Records of which emails reached the login", "removed"),
        ):
            count = rows.count()
            if count:
                changes.append(Change(what, how, count))
        if has_profile:
            changes.append(Change("Staff profile", "photo and \u201chow to reach me\u201d removed"))
        if identifiers_of(user):
            changes.append(
                Change(
                    "University identifier and email, as a keyed hash",
                    "kept, unreadable, so the student record feed and the university's "
                    "sign-in do not make the person again",
                    kept=True,
                )
            )
        if kept:
            changes.append(
                Change(
                    "Training records and terms accepted",
                    "kept for training figures, under the erased name",
                    kept,
                    kept=True,
                )
            )
        if apply:
            erased_identifiers_remember(user=user, on=timezone.localdate(now))
            addresses.delete()
            factors.delete()
            university_sign_in.delete()
            profile.update(student_number=f"erased-{user.pk}", expected_graduation=None)
            grant.update(revoked_at=now, revoked_by=by)
            waiting.delete()
            reached.delete()
            if user.photo:
                user.photo.storage.delete(user.photo.name)
            User.objects.filter(pk=user.pk).update(
                full_name=ERASED_PERSON,
                email=f"erased-{user.pk}@erased.invalid",
                university_id=None,
                phone="",
                job_title="",
                photo="",
                about="",
                notifications_off=[],
                dashboard_order=[],
                is_active=False,
                # Unusable: no password matches, and every session of the login ends,
                # because a session is tied to the password it was opened with.
                password="!erased",
                feed_token=new_feed_token(),
            )
    attempts = _failed_logins(subject)
    count = sum(rows.count() for rows in attempts)
    if count:
        changes.append(Change("Records of failed log-ins", "removed", count))
        if apply:
            for rows in attempts:
                rows.delete()
    reached, failed = _emails_sent(subject)
    count = reached.count() + len(failed)
    if count:
        changes.append(
            Change(
                "Records of emails sent to them",
                "address removed; emails that failed stay listed for administrators",
                count,
            )
        )
        if apply:
            reached.delete()
            for pk, texts in failed.items():
                FailedTask.objects.filter(pk=pk).update(**texts)
    return changes


def login_places(subject):
    """Free text about the person's logins: access notes, the technical admin's log."""
    ids = subject.user_ids
    yield TextPlace(
        "Access records",
        AccessGrant.objects.filter(user_id__in=ids),
        ("note",),
        lambda grant: f"Access level granted on {in_words(grant.granted_at)}",
    )
    user_type = ContentType.objects.get_for_model(User)
    yield TextPlace(
        "Technical administration log",
        LogEntry.objects.filter(
            Q(user_id__in=ids) | Q(content_type=user_type, object_id__in=[str(i) for i in ids])
        ),
        ("object_repr", "change_message"),
        lambda entry: f"Technical administration log, {in_words(entry.action_time)}",
    )


def protected_names(subject, word: str):
    """Units, programmes and other people whose names contain `word`."""
    for name in Unit.objects.filter(name__icontains=word).values_list("name", flat=True):
        yield "unit", name
    for name in DegreeProgramme.objects.filter(name__icontains=word).values_list("name", flat=True):
        yield "programme", name
    others = User.objects.filter(full_name__icontains=word).exclude(pk__in=subject.user_ids)
    for name in others.order_by().values_list("full_name", flat=True).distinct():
        yield "person", name


def login_letter(subject):
    """The person's logins, student record, access and training, in words."""
    for user in subject.users:
        two_step = Authenticator.objects.filter(user=user).exists()
        yield LetterEntry(
            "profile",
            f"Your login ({user.get_kind_display().lower()})",
            [
                ("Name", user.full_name),
                ("Email address", user.email),
                ("University identifier", user.university_id or ""),
                ("Phone", user.phone),
                ("Job title", user.job_title),
                ("Login created", user.date_joined),
                ("Last logged in", user.last_login),
                ("Login open", user.is_active),
                ("Two-step sign-in", "On" if two_step else "Off"),
                ("How to reach you and what you work on", user.about),
                (
                    "Photo",
                    "Yes: shown to colleagues beside your key accounts" if user.photo else "",
                ),
                (
                    "Personal calendar feed",
                    "You have a private feed address (not shown here; you can change it)",
                ),
            ],
            when=user.date_joined,
            origin=ORIGIN.get(user.kind, ""),
            key=f"accounts.User:{user.pk}",
            quoted=("How to reach you and what you work on",),
        )
        for address in EmailAddress.objects.filter(user=user).order_by("email"):
            if address.email.lower() != user.email.lower():
                yield LetterEntry(
                    "profile",
                    "Another email address of your login",
                    [("Email address", address.email), ("Confirmed", address.verified)],
                )
        for link in SocialAccount.objects.filter(user=user).order_by("date_joined"):
            yield LetterEntry(
                "profile",
                "Your sign-in through the university",
                [
                    ("Identity provider", link.get_provider_display()),
                    ("Identifier it gives", link.uid),
                    ("Linked", link.date_joined),
                    ("Last signed in this way", link.last_login),
                    ("What it sent at the last sign-in", ", ".join(sorted(link.extra_data))),
                ],
                when=link.date_joined,
                origin="From the university's sign-in, each time you sign in",
            )
        profile = StudentProfile.objects.filter(user=user).select_related("unit", "programme")
        for student in profile:
            yield LetterEntry(
                "profile",
                "Your student record",
                [
                    ("School", str(student.unit)),
                    ("Degree programme", str(student.programme)),
                    ("Year of study", student.year_of_study),
                    ("Student number", student.student_number),
                    ("Expected graduation", student.expected_graduation),
                ],
                origin="From the university's student records",
            )
        if user.kind == User.Kind.STAFF:
            off = len(user.notifications_off or [])
            yield LetterEntry(
                "profile",
                "The emails MyCareer sends you about your work",
                [
                    ("When", NotificationMode(user.notification_mode).label),
                    ("Kinds you switched off", off),
                    (
                        "Waiting for your next daily digest",
                        PendingNotification.objects.filter(user=user, sent_at__isnull=True).count(),
                    ),
                ],
                origin="Your choices, on your profile",
            )
        units = StaffMembership.objects.filter(user=user).select_related("unit")
        if units:
            yield LetterEntry(
                "profile",
                "Where you work in the university",
                [("Unit", ", ".join(str(m.unit) for m in units))],
                origin="From the Careers Centre, when you were given access",
            )
        for grant in AccessGrant.objects.filter(user=user).select_related("granted_by"):
            yield LetterEntry(
                "activity",
                f"Access level: {grant.get_level_display()}",
                [
                    ("Granted", grant.granted_at),
                    ("Granted by", str(grant.granted_by or "")),
                    ("Ended", grant.revoked_at),
                    ("Note", grant.note),
                ],
                when=grant.granted_at,
            )
        records = TrainingRecord.objects.filter(user=user).select_related("course")
        for record in records:
            yield LetterEntry(
                "activity",
                f"Training: {record.course}",
                [
                    ("Status", record.get_status_display()),
                    ("Completed", record.completed_on),
                    ("Valid until", record.expires_on),
                ],
                when=record.completed_on or record.created_at,
            )
        for acceptance in TermsAcceptance.objects.filter(user=user).select_related("terms"):
            yield LetterEntry(
                "activity",
                f"Terms of use accepted: {acceptance.terms}",
                [("Accepted", acceptance.accepted_at)],
                when=acceptance.accepted_at,
            )
        sessions = TrainingSession.objects.filter(trainer=user).count()
        if sessions:
            yield LetterEntry("activity", "Training sessions you ran", [("Sessions", sessions)])
        admin_log = LogEntry.objects.filter(user=user).count()
        if admin_log:
            yield LetterEntry(
                "activity",
                "Changes you made in the technical administration site",
                [("Changes", admin_log)],
            )


personal_data = PersonalDataHandler(
    anonymise=anonymise_logins,
    places=login_places,
    protected=protected_names,
    letter=login_letter,
    covers=(
        "accounts.StaffMembership.user",
        "accounts.StudentProfile.user",
        "accounts.AccessGrant.user",
        "accounts.TrainingRecord.user",
        "accounts.TrainingSession.trainer",
        "accounts.TermsAcceptance.user",
        "accounts.PendingNotification.user",
        "core.SentEmail.user",
        "account.EmailAddress.user",
        "mfa.Authenticator.user",
        "socialaccount.SocialAccount.user",
        "admin.LogEntry.user",
    ),
)
