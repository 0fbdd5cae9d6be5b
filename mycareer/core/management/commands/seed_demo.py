from django.core.management.base import BaseCommand
from django.db import transaction

from mycareer.core.registry import seed_steps

DEMO_LOGINS = [
    ("admin@demo.ac.uk", "Careers Centre administrator"),
    ("operator@demo.ac.uk", "operator (create and edit)"),
    ("manager@demo.ac.uk", "operator with delete"),
    ("mailer@demo.ac.uk", "bulk mailer"),
    ("viewer@demo.ac.uk", "viewer (read only)"),
    ("untrained@demo.ac.uk", "operator grant, training expired"),
    ("student@demo.ac.uk", "student, MEng Mechanical Engineering year 3"),
    ("employer@demo-employer.com", "employer contact"),
    ("imogen.nolan@demo-employer.com", "employer colleague (member only)"),
]


class Command(BaseCommand):
    help = "Load the demo university (idempotent: running it again changes nothing new)."

    def handle(self, *args, **options):
        cast: dict = {}
        with transaction.atomic():
            for step in seed_steps():
                step.run(cast)
                self.stdout.write(f"  seeded {step.name}")
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000/accounts/login/")
        )
        self.stdout.write("Demo logins (password for all: demo-password-1):")
        for email, role in DEMO_LOGINS:
            self.stdout.write(f"  {email:<30} {role}")
        self.stdout.write(
            "Administrators sign in with two steps: for admin@demo.ac.uk, run "
            "`.venv/bin/python manage.py demo_code` for the authenticator code."
        )
