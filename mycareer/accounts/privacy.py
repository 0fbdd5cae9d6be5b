"""Erasing a person's login: the account stays (figures keep their counts) but says nothing."""

from allauth.account.models import EmailAddress

from mycareer.accounts.models import PendingNotification, StudentProfile, User, new_feed_token


def erase_users(subject) -> int:
    changed = 0
    for user in subject.users:
        EmailAddress.objects.filter(user=user).delete()
        PendingNotification.objects.filter(user=user).delete()
        photo = User.objects.get(pk=user.pk).photo
        if photo:
            photo.storage.delete(photo.name)
        User.objects.filter(pk=user.pk).update(
            full_name="Erased person",
            email=f"erased-{user.pk}@erased.invalid",
            phone="",
            job_title="",
            photo="",
            about="",
            notifications_off=[],
            dashboard_order=[],
            is_active=False,
            password="!erased",  # unusable: no password matches
            feed_token=new_feed_token(),
        )
        StudentProfile.objects.filter(user=user).update(student_number=f"erased-{user.pk}")
        changed += 1
    return changed
