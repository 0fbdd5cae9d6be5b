"""The student record feed in subject access and erasure."""

from mycareer.audit.personal_data import Change, LetterEntry, PersonalDataHandler
from mycareer.people.models import FeedImport, FeedRecord


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
    if apply:
        records.delete()
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
