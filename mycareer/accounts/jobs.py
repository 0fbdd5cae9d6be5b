"""The accounts app's schedule (the emails themselves are tasks in tasks.py)."""

from mycareer.accounts.tasks import send_notification_digests, send_training_expiry_reminders
from mycareer.core.registry import DailyJob

JOBS = (
    DailyJob("training-expiry-reminders", send_training_expiry_reminders, hour=7),
    DailyJob("staff-notification-digests", send_notification_digests, hour=7),
)
