"""manage.py erased_release --university-id ID --email EMAIL: let an erased person back."""

import logging

from django.core.management.base import BaseCommand, CommandError

from mycareer.accounts.erased import erased_identifiers_release
from mycareer.core.logs import log_event

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Forget that a person was erased, when they ask to use MyCareer again: the student "
        "record feed and their university sign-in may then make their login anew. Give the "
        "identifiers they have now (MyCareer keeps only keyed hashes, never the identifiers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--university-id", default="", help="Their stable id.")
        parser.add_argument("--email", default="", help="Their university email address.")

    def handle(self, *args, university_id: str, email: str, **options):
        if not (university_id.strip() or email.strip()):
            raise CommandError("Give --university-id, --email or both.")
        released = erased_identifiers_release(university_id=university_id, email=email)
        log_event(logger, "accounts.erased_released", released=released)
        if not released:
            raise CommandError("No erased person has these identifiers: nothing was changed.")
        self.stdout.write(
            f"Released {released} identifier(s): the next import or sign-in may make them again."
        )
