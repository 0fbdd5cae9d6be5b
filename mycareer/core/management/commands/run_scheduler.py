import time

from django.core.management.base import BaseCommand

from mycareer.core.scheduler import enqueue_due_jobs


class Command(BaseCommand):
    help = "Enqueue MyCareer's daily jobs (reminders, closing dates) for the task worker."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Check once and exit.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between checks.")

    def handle(self, *args, once=False, interval=60, **options):
        while True:
            for name in enqueue_due_jobs():
                self.stdout.write(f"Enqueued daily job {name}")
            if once:
                return
            time.sleep(interval)
