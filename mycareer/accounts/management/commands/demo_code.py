from django.core.management.base import BaseCommand

from mycareer.accounts.demo import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = "Print the demo administrator's current authenticator code (demo data only)."

    def handle(self, *args, **options):
        self.stdout.write(demo_totp_code())
        self.stderr.write(
            f"admin@demo.ac.uk: this code changes every 30 seconds; or add the key "
            f"{DEMO_TOTP_SECRET} to an authenticator app."
        )
