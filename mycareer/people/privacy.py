"""The student record feed in subject access and erasure."""

from django.contrib.auth import get_user_model

from mycareer.audit.personal_data import ERASED_PERSON, Change, LetterEntry, PersonalDataHandler
from mycareer.people.models import FeedImport, FeedRecord

ERASED = "[erased]"


def _summary_without(subject, summary: dict) -> dict:
    """An import's kept summary without the person: the rows that named them keep their
    row number and what changed, not who they were.

    New and changed people and problems are recognised by email or stable id. A leaver is
    kept by name only, so their name goes when no other login has it (a namesake's line
    is not the person's to erase).
    """
    emails = subject.emails
    ids = {u.university_id.strip().lower() for u in subject.users if u.university_id}
    others = (
        get_user_model()
        .objects.exclude(pk__in=subject.user_ids)
        .filter(full_name__in=[u.full_name for u in subject.users if u.full_name])
        .values_list("full_name", flat=True)
    )
    names = {u.full_name.casefold() for u in subject.users if u.full_name} - {
        name.casefold() for name in others
    }
    changes = [
        {**row, "name": ERASED_PERSON, "email": ERASED}
        if str(row.get("email", "")).strip().lower() in emails
        else row
        for row in summary.get("changes", [])
    ]
    problems = [
        {**row, "who": ERASED} if str(row.get("who", "")).strip().lower() in emails | ids else row
        for row in summary.get("problems", [])
    ]
    leaving = [
        {**row, "name": ERASED_PERSON}
        if str(row.get("name", "")).casefold() in names | emails
        else row
        for row in summary.get("leaving", [])
    ]
    return {**summary, "changes": changes, "problems": problems, "leaving": leaving}


def _anonymise(subject, *, apply: bool, by=None) -> list[Change]:
    records = FeedRecord.objects.filter(user_id__in=subject.user_ids)
    changes = []
    if records.exists():
        changes.append(Change("Their record from the student record system", "removed"))
    uploads = FeedImport.objects.filter(by_id__in=subject.user_ids)
    if uploads.exists():
        changes.append(
            Change(
                "Student record files they imported",
                "kept with their counts, under the erased login",
                uploads.count(),
                kept=True,
            )
        )
    named = []
    for upload in FeedImport.objects.exclude(counts={}).only("pk", "counts"):
        counts = _summary_without(subject, upload.counts)
        if counts != upload.counts:
            named.append((upload.pk, counts))
    if named:
        changes.append(
            Change(
                "Summaries of student record files that named them",
                "their name, email address and stable id replaced",
                len(named),
            )
        )
    if apply:
        records.delete()
        for pk, counts in named:
            FeedImport.objects.filter(pk=pk).update(counts=counts)
    return changes


def _letter(subject):
    for record in FeedRecord.objects.filter(user_id__in=subject.user_ids):
        yield LetterEntry(
            "profile",
            "What the university's student record system sends about you",
            [
                ("As", record.get_kind_display()),
                ("Status", record.get_status_display()),
                ("First received", record.first_seen_at),
                ("Last received", record.last_seen_at),
                ("Missing from the records since", record.missing_since),
                ("Made inactive as a leaver", record.left_at),
            ],
            when=record.last_seen_at,
        )


personal_data = PersonalDataHandler(
    anonymise=_anonymise,
    letter=_letter,
    covers=("people.FeedRecord.user", "people.FeedImport.by"),
)
