"""Vacancies and their moderation: the one place that changes a vacancy.

The state machine (`Vacancy.status`, plus an edit that may wait on an approved one)::

    draft ──submit──▶ submitted ──approve──▶ approved ──daily task, after closing date──▶ closed
                          │   ▲                  │
                       reject └─(edit)─ rejected │ (employer edit)
                          ▼                      ▼
                       rejected          approved + pending edit ──approve edit──▶ approved
                                                                 └──reject edit──▶ approved
    draft, submitted, rejected, approved ──withdraw──▶ withdrawn

- An employer admin's new vacancy is a draft. Staff posting on an employer's behalf
  publish straight away: the vacancy is approved at once and marked `posted_by_staff`.
- Editing a draft or a submitted vacancy changes it in place (a submitted one stays in
  the queue). Editing a rejected vacancy sends it back to moderation.
- An employer's edit of an approved vacancy does not touch the live fields: the fields
  that differ are kept in `pending_changes` and the approved version stays live until a
  moderator approves the edit (the changes go live) or rejects it (they are dropped and
  the reason emailed). A further edit before then replaces the waiting one and keeps
  its place in the queue. Staff edits of an approved vacancy apply at once.
- Staff who withdraw a vacancy give a reason, emailed to the organisation as their
  moderation decisions are.
- Withdrawn and closed are final. Closing drops a waiting edit, so to extend a closing
  date the employer's edit must be approved before the date passes. An approved vacancy
  is closed from the day after its closing date, as its pages say, though the daily task
  records it only in the morning.
- Students see a vacancy only while it is approved, its closing date is today or later
  and its organisation is active (`selectors.open_vacancies`); so an organisation that
  is still waiting for approval can draft, and even be approved, but shows nothing.

Every change is audited in its own transaction; emails go after commit, through tasks.
A transition that is not allowed raises ValidationError with a plain-English reason;
acting on another organisation's vacancy raises PermissionDenied.
"""

import copy
import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mycareer import audit
from mycareer.accounts.models import DegreeProgramme, Unit, User
from mycareer.accounts.permissions import check_perm
from mycareer.organisations import merging
from mycareer.organisations.models import Organisation
from mycareer.vacancies.models import EDITABLE_FIELDS, SIMPLE_FIELDS, TARGET_FIELDS, Vacancy
from mycareer.vacancies.tasks import decision_recipients, send_vacancy_decision_email

Status = Vacancy.Status


# Helpers ---------------------------------------------------------------------------


def is_moderator(user: User) -> bool:
    """Staff who may moderate, post on an employer's behalf and edit any vacancy."""
    return user.has_perm("vacancies.moderate_vacancy")


def _check_may_manage(by: User, organisation: Organisation) -> bool:
    """Refuse anyone but staff who edit records and the organisation's employer admins.

    Returns True when `by` acts as staff.
    """
    check_perm(by, "vacancies.add_vacancy_for", organisation)
    return is_moderator(by)


def _check_organisation_can_post(organisation: Organisation) -> None:
    """Refuse an archived or merged-away organisation, read under its row's lock in the
    caller's transaction: read from the object a page fetched, a vacancy sent while a
    merge was under way went onto the merged-away record once the merge committed (see
    `organisations.services.check_not_merged`)."""
    row = (
        Organisation.objects.select_for_update()
        .filter(pk=organisation.pk)
        .values_list("status", "merged_into")
        .first()
    )
    if row is None or row[1] is not None or row[0] == Organisation.Status.ARCHIVED:
        raise ValidationError(f"{organisation} is archived, so it cannot advertise vacancies.")


# A vacancy closes within two years: a date further on is a typing slip (9999-12-31 made
# the public feeds fail for everyone, their end of day past the last date there is).
LATEST_CLOSING = datetime.timedelta(days=731)


def closing_date_problem(day: datetime.date) -> str:
    """What is wrong with a closing date ("" when nothing): passed, or over two years away.
    The form asks too, so the date is mended with the form's other mistakes."""
    today = timezone.localdate()
    if day < today:
        return "The closing date has passed: choose today or a later day."
    if day > today + LATEST_CLOSING:
        latest = today + LATEST_CLOSING
        return (
            f"The closing date is more than two years away: choose {latest:%-d %B %Y} "
            "or an earlier day."
        )
    return ""


def _check_closing_date(day: datetime.date, *, field: str = "closing_date") -> None:
    if problem := closing_date_problem(day):
        raise ValidationError({field: problem})


def _normalise(name: str, value):
    """A field's value as stored in `pending_changes` and in the audit trail."""
    if name in TARGET_FIELDS:
        return sorted({int(getattr(item, "pk", item)) for item in value or ()})
    if name == "closing_date":
        if value in (None, ""):
            return None
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _live(vacancy: Vacancy, name: str):
    if name in TARGET_FIELDS:
        return sorted(getattr(vacancy, name).values_list("pk", flat=True))
    return _normalise(name, getattr(vacancy, name))


def _recorded(vacancy: Vacancy, changes: dict) -> dict:
    """`changes` ({field: [before, after]}) as the audit trail records them: when either
    kind of target changes, both kinds, the other unchanged. Whether an emptied kind
    meant "every student" depends on the other, which the trail cannot look up later."""
    if not TARGET_FIELDS.keys() & changes.keys():
        return changes
    recorded = dict(changes)
    for name in TARGET_FIELDS:
        if name not in recorded:
            live = _live(vacancy, name)
            recorded[name] = [live, live]
    return recorded


def _other_targets(vacancy: Vacancy, proposed: dict) -> dict:
    """The kind of target an edit's values (`proposed`, {field: value}) leave as they are
    live, when it changes the other kind: recorded beside the values, they tell whether an
    emptied kind meant "every student", which the trail cannot look up later."""
    recorded = _recorded(vacancy, {name: [None, value] for name, value in proposed.items()})
    return {name: pair[1] for name, pair in recorded.items() if name not in proposed}


def _if_any(**values) -> dict:
    """The keyword arguments that are not empty: an entry's data without empty extras."""
    return {name: value for name, value in values.items() if value}


def _python(name: str, value):
    if name == "closing_date" and value is not None:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as error:
            raise ValidationError({"closing_date": "Enter a valid date."}) from error
    return value


def _check_fields(data: dict) -> None:
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"Vacancies have no editable field(s) {', '.join(unknown)}.")


def _validate(vacancy: Vacancy, values: dict) -> None:
    """Check a vacancy as it would be with `values` (normalised) applied, changing nothing."""
    candidate = copy.copy(vacancy)
    for name, value in values.items():
        if name in SIMPLE_FIELDS:
            setattr(candidate, name, _python(name, value))
    candidate.full_clean()
    for name, model in TARGET_FIELDS.items():
        ids = values.get(name)
        if ids and model.objects.filter(pk__in=ids).count() != len(ids):
            raise ValidationError({name: "Choose from the list."})


def _apply(vacancy: Vacancy, values: dict) -> None:
    """Set `values` (normalised) on the vacancy and save it, targets included."""
    for name, value in values.items():
        if name in SIMPLE_FIELDS:
            setattr(vacancy, name, _python(name, value))
    vacancy.save()
    for name in TARGET_FIELDS:
        if name in values:
            getattr(vacancy, name).set(values[name])


def _locked(vacancy: Vacancy) -> Vacancy:
    """The vacancy read again under a row lock, so two decisions cannot cross."""
    return Vacancy.objects.select_for_update().select_related("organisation").get(pk=vacancy.pk)


def _check_seen(vacancy: Vacancy, seen: datetime.datetime | None) -> None:
    """Refuse a decision on a version the moderator was not shown: the employer may
    change a vacancy waiting for moderation, or its waiting edit, while the page is open.
    `seen` is the `updated_at` the moderator's page showed (None: not checked)."""
    if seen is not None and vacancy.updated_at != seen:
        raise ValidationError(
            "The organisation changed this vacancy after you opened it: read it again "
            "below, then decide."
        )


def _finished(vacancy: Vacancy) -> str:
    """ "withdrawn" or "closed" when the vacancy can no longer change, else "".

    One past its closing date is closed from midnight, as its pages say, though the daily
    job closes it only in the morning: until then it could still be changed, and an
    approved edit moving the date on reopened it."""
    if vacancy.status == Status.WITHDRAWN:
        return "withdrawn"
    return "closed" if vacancy.has_closed else ""


def _drop_pending(vacancy: Vacancy) -> None:
    vacancy.pending_changes = None
    vacancy.pending_since = None
    vacancy.pending_by = None


def _notify(vacancy: Vacancy, decision: str, reason: str = "") -> None:

    transaction.on_commit(lambda: send_vacancy_decision_email.enqueue(vacancy.pk, decision, reason))


# Employers and staff ---------------------------------------------------------------


@transaction.atomic
def vacancy_create(
    *,
    organisation: Organisation,
    by: User,
    target_units: Iterable[Unit | int] = (),
    target_programmes: Iterable[DegreeProgramme | int] = (),
    submit: bool = False,
    **fields,
) -> Vacancy:
    """Create a draft (submitted if asked) for an employer admin; staff posting publish it."""
    _check_fields(fields)
    as_staff = _check_may_manage(by, organisation)
    _check_organisation_can_post(organisation)
    values = {name: _normalise(name, value) for name, value in fields.items()}
    vacancy = Vacancy(organisation=organisation, created_by=by)
    for name, value in values.items():
        setattr(vacancy, name, _python(name, value))
    targets = {
        "target_units": _normalise("target_units", target_units),
        "target_programmes": _normalise("target_programmes", target_programmes),
    }
    _validate(vacancy, targets)
    _check_closing_date(vacancy.closing_date)
    now = timezone.now()
    if as_staff:
        vacancy.status = Status.APPROVED
        vacancy.posted_by_staff = True
        vacancy.submitted_at = vacancy.decided_at = now
        vacancy.decided_by = by
    vacancy.save()
    vacancy.target_units.set(targets["target_units"])
    vacancy.target_programmes.set(targets["target_programmes"])
    audit.log(
        vacancy,
        "vacancies.vacancy.posted" if as_staff else "vacancies.vacancy.created",
        by=by,
        data={"organisation": organisation.pk, "title": vacancy.title, "status": vacancy.status},
    )
    if submit and not as_staff:
        _submit(vacancy, by)
    return vacancy


@transaction.atomic
def vacancy_update(*, vacancy: Vacancy, by: User, submit: bool = False, **data) -> dict:
    """Change a vacancy; an employer's edit of an approved one waits for moderation.

    With `submit`, a draft is also sent for moderation. Returns {field: [old, new]} for
    what changed (or what now waits for moderation).
    """
    _check_fields(data)
    vacancy = _locked(vacancy)
    as_staff = _check_may_manage(by, vacancy.organisation)
    if finished := _finished(vacancy):
        raise ValidationError(
            f"This vacancy is {finished}, so it can no longer be changed. Create a new one instead."
        )
    proposed = {name: _normalise(name, value) for name, value in data.items()}
    if vacancy.status == Status.APPROVED and not as_staff:
        return _propose_edit(vacancy, by, proposed)
    live = {name: _live(vacancy, name) for name in proposed}
    changed = {name: [live[name], value] for name, value in proposed.items() if value != live[name]}
    if vacancy.status == Status.REJECTED and not changed:
        # Sent again as it was, it would only be turned down again, and the reason the
        # employer needs to read would be gone.
        raise ValidationError(
            "Nothing was changed since the Careers Centre turned this vacancy down: change "
            "what its reason asks for, then send it again."
        )
    to_moderation = vacancy.status == Status.REJECTED or (submit and vacancy.status == Status.DRAFT)
    if not changed and not to_moderation:
        return {}
    _validate(vacancy, proposed)
    if "closing_date" in changed:
        _check_closing_date(_python("closing_date", proposed["closing_date"]))
    elif to_moderation:
        _check_closing_date(vacancy.closing_date)
    if changed:
        recorded = _recorded(vacancy, changed)
        _apply(vacancy, {name: proposed[name] for name in changed})
        audit.log(vacancy, "vacancies.vacancy.changed", by=by, data={"changed": recorded})
    if to_moderation:
        _check_organisation_can_post(vacancy.organisation)
        _submit(vacancy, by, resubmitted=vacancy.status == Status.REJECTED)
    return changed


def _propose_edit(vacancy: Vacancy, by: User, proposed: dict) -> dict:
    """Keep an employer's edit of a live vacancy aside until a moderator decides."""
    pending = dict(vacancy.pending_changes or {})
    live = {}
    for name, value in proposed.items():
        live[name] = _live(vacancy, name)
        if value == live[name]:
            pending.pop(name, None)
        else:
            pending[name] = value
    for name in list(pending):
        live.setdefault(name, _live(vacancy, name))
    if not pending:
        if vacancy.has_pending_edit:
            _drop_pending(vacancy)
            vacancy.save()
            audit.log(vacancy, "vacancies.vacancy.edit_cancelled", by=by)
        return {}
    _validate(vacancy, pending)
    if "closing_date" in pending:
        _check_closing_date(_python("closing_date", pending["closing_date"]))
    if pending == vacancy.pending_changes:
        return {name: [live[name], value] for name, value in pending.items()}
    vacancy.pending_changes = pending
    # A revised edit keeps the first one's place in the queue.
    vacancy.pending_since = vacancy.pending_since or timezone.now()
    vacancy.pending_by = by
    vacancy.edit_rejection_reason = ""
    vacancy.save()
    changes = {name: [live[name], value] for name, value in pending.items()}
    audit.log(
        vacancy,
        "vacancies.vacancy.edit_proposed",
        by=by,
        data={"changes": _recorded(vacancy, changes)},
    )
    return changes


def _submit(vacancy: Vacancy, by: User, *, resubmitted: bool = False) -> None:
    vacancy.status = Status.SUBMITTED
    vacancy.submitted_at = timezone.now()
    vacancy.rejection_reason = ""
    vacancy.save()
    audit.log(
        vacancy,
        "vacancies.vacancy.submitted",
        by=by,
        data={"resubmitted": resubmitted, "title": vacancy.title},
    )


@transaction.atomic
def vacancy_submit(*, vacancy: Vacancy, by: User) -> Vacancy:
    """Send a draft to the moderators."""
    vacancy = _locked(vacancy)
    _check_may_manage(by, vacancy.organisation)
    if vacancy.status == Status.REJECTED:
        raise ValidationError(
            "This vacancy was not approved: change what the moderator asked for, and saving "
            "your changes sends it for moderation again."
        )
    if vacancy.status != Status.DRAFT:
        raise ValidationError(
            f"Only a draft can be submitted; this vacancy is "
            f"{vacancy.get_status_display().lower()}."
        )
    _check_organisation_can_post(vacancy.organisation)
    _validate(vacancy, {})
    _check_closing_date(vacancy.closing_date)
    _submit(vacancy, by)
    return vacancy


@transaction.atomic
def vacancy_withdraw(*, vacancy: Vacancy, by: User, reason: str = "") -> Vacancy:
    """Take a vacancy down (or out of the queue) for good; a waiting edit goes with it.

    Staff taking down an organisation's vacancy give a reason, which the organisation is
    emailed as it is a moderator's decision: its advert vanished without a word."""
    vacancy = _locked(vacancy)
    as_staff = _check_may_manage(by, vacancy.organisation)
    if as_staff:
        reason = _reason_given(reason)
    if finished := _finished(vacancy):
        raise ValidationError(f"This vacancy is already {finished}.")
    previous = vacancy.status
    vacancy.status = Status.WITHDRAWN
    _drop_pending(vacancy)
    vacancy.save()
    audit.log(
        vacancy,
        "vacancies.vacancy.withdrawn",
        by=by,
        data={"previous": previous, **_if_any(reason=reason.strip())},
    )
    if as_staff:
        _notify(vacancy, "withdrawn", reason)
    return vacancy


def vacancy_withdrawal_recipients(vacancy: Vacancy) -> list[str]:
    """Whom a staff withdrawal of the vacancy emails: nobody when nobody at the organisation
    signs in to manage its vacancies (often so for one staff posted), which pages then say."""
    return decision_recipients(vacancy, "withdrawn")


# Moderation ------------------------------------------------------------------------


@transaction.atomic
def vacancy_approve(
    *, vacancy: Vacancy, by: User, seen: datetime.datetime | None = None
) -> Vacancy:
    """Approve a submitted vacancy: students see it (once its organisation is active)."""
    check_perm(by, "vacancies.moderate_vacancy")
    vacancy = _locked(vacancy)
    if vacancy.status != Status.SUBMITTED:
        raise ValidationError(
            f"Only a vacancy waiting for moderation can be approved; this one is "
            f"{vacancy.get_status_display().lower()}."
        )
    _check_seen(vacancy, seen)
    if vacancy.closing_date < timezone.localdate():
        raise ValidationError(
            "The closing date has passed, so students could not apply: reject it and ask the "
            "employer for a new closing date."
        )
    vacancy.status = Status.APPROVED
    vacancy.decided_at, vacancy.decided_by = timezone.now(), by
    vacancy.rejection_reason = ""
    vacancy.save()
    audit.log(vacancy, "vacancies.vacancy.approved", by=by, data={"title": vacancy.title})
    _notify(vacancy, "approved")
    return vacancy


@transaction.atomic
def vacancy_reject(
    *, vacancy: Vacancy, by: User, reason: str, seen: datetime.datetime | None = None
) -> Vacancy:
    """Turn down a submitted vacancy; the reason is emailed to the employer."""
    check_perm(by, "vacancies.moderate_vacancy")
    reason = _reason_given(reason)
    vacancy = _locked(vacancy)
    if vacancy.status != Status.SUBMITTED:
        raise ValidationError(
            f"Only a vacancy waiting for moderation can be rejected; this one is "
            f"{vacancy.get_status_display().lower()}."
        )
    _check_seen(vacancy, seen)
    vacancy.status = Status.REJECTED
    vacancy.rejection_reason = reason
    vacancy.decided_at, vacancy.decided_by = timezone.now(), by
    vacancy.save()
    audit.log(
        vacancy,
        "vacancies.vacancy.rejected",
        by=by,
        data={"reason": reason, "title": vacancy.title},
    )
    _notify(vacancy, "rejected", reason)
    return vacancy


def _reason_given(reason: str) -> str:
    """A moderator's reason, which the employer is told: it must say something."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason: the employer is told it."})
    return reason


def _check_pending(vacancy: Vacancy) -> None:
    if vacancy.has_closed:
        # Closing drops a waiting edit: it can no longer go live, nor stay waiting.
        raise ValidationError(
            "This vacancy has closed: its closing date has passed, so the changes waiting "
            "for moderation are dropped."
        )
    if not vacancy.has_pending_edit:
        raise ValidationError("There are no changes to this vacancy waiting for moderation.")


@transaction.atomic
def vacancy_approve_edit(
    *, vacancy: Vacancy, by: User, seen: datetime.datetime | None = None
) -> Vacancy:
    """Make an approved vacancy's waiting changes live."""
    check_perm(by, "vacancies.moderate_vacancy")
    vacancy = _locked(vacancy)
    _check_pending(vacancy)
    _check_seen(vacancy, seen)
    pending = dict(vacancy.pending_changes or {})
    if "closing_date" in pending:
        _check_closing_date(_python("closing_date", pending["closing_date"]), field="__all__")
    _validate(vacancy, pending)
    changes = {name: [_live(vacancy, name), value] for name, value in pending.items()}
    recorded = _recorded(vacancy, changes)
    _drop_pending(vacancy)
    vacancy.edit_rejection_reason = ""
    vacancy.decided_at, vacancy.decided_by = timezone.now(), by
    _apply(vacancy, pending)
    audit.log(vacancy, "vacancies.vacancy.edit_approved", by=by, data={"changes": recorded})
    _notify(vacancy, "edit_approved")
    return vacancy


@transaction.atomic
def vacancy_reject_edit(
    *, vacancy: Vacancy, by: User, reason: str, seen: datetime.datetime | None = None
) -> Vacancy:
    """Drop an approved vacancy's waiting changes; the live version stays as it was."""
    check_perm(by, "vacancies.moderate_vacancy")
    reason = _reason_given(reason)
    vacancy = _locked(vacancy)
    _check_pending(vacancy)
    _check_seen(vacancy, seen)
    changes = dict(vacancy.pending_changes or {})
    other = _other_targets(vacancy, changes)
    _drop_pending(vacancy)
    vacancy.edit_rejection_reason = reason
    vacancy.decided_at, vacancy.decided_by = timezone.now(), by
    vacancy.save()
    audit.log(
        vacancy,
        "vacancies.vacancy.edit_rejected",
        by=by,
        data={"reason": reason, "changes": changes, **_if_any(other_targets=other)},
    )
    _notify(vacancy, "edit_rejected", reason)
    return vacancy


def vacancies_close_expired(*, today: datetime.date | None = None) -> int:
    """Close every approved vacancy whose closing date is before `today`; returns how many."""
    today = today or timezone.localdate()
    closed = 0
    expired = Vacancy.objects.filter(status=Status.APPROVED, closing_date__lt=today)
    for pk in expired.values_list("pk", flat=True):
        with transaction.atomic():
            vacancy = Vacancy.objects.select_for_update().filter(pk=pk).first()
            # Checked again under the lock: it may have changed since the list was read.
            if (
                vacancy is None
                or vacancy.status != Status.APPROVED
                or vacancy.closing_date >= today
            ):
                continue
            dropped = vacancy.pending_changes
            other = _other_targets(vacancy, dropped or {})
            vacancy.status = Status.CLOSED
            _drop_pending(vacancy)
            vacancy.save()
            audit.log(
                vacancy,
                "vacancies.vacancy.closed",
                data={
                    "closing_date": vacancy.closing_date.isoformat(),
                    "dropped_edit": dropped,
                    **_if_any(other_targets=other),
                },
            )
            closed += 1
    return closed


# Merging organisations (see organisations.merging) --------------------------------


def _merge_vacancies(*, survivor: Organisation, other: Organisation, outcome) -> None:
    moved = Vacancy.objects.filter(organisation=other).update(organisation=survivor)
    outcome.moved("vacancy", "vacancies", moved)


MERGE_HANDLER = merging.MergeHandler(
    name="vacancies",
    relations=("vacancies.Vacancy.organisation",),
    organisation=_merge_vacancies,
    preview=lambda other: {"vacancies": other.vacancies.count()},
    nouns=(("vacancy", "vacancies"),),
)
