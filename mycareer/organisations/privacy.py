"""Erasing an employer contact: the record stays for counts and history, without the person."""

from mycareer.organisations.models import Contact, EmployerMembership, RegistrationRequest


def erase_contacts(subject) -> int:
    user_ids = [u.pk for u in subject.users]
    contact_ids = [c.pk for c in subject.contacts]
    contact_ids += list(Contact.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))
    changed = Contact.objects.filter(pk__in=contact_ids).update(
        full_name="Erased contact",
        job_title="",
        email="",
        phone="",
        user=None,
        visible_to_students=False,
    )
    EmployerMembership.objects.filter(user_id__in=user_ids).delete()
    RegistrationRequest.objects.filter(user_id__in=user_ids).update(ip_address=None)
    return changed


def declined_registrations_due():
    import datetime

    from django.utils import timezone

    cutoff = timezone.now() - datetime.timedelta(days=365)
    return RegistrationRequest.objects.filter(
        status=RegistrationRequest.Status.DECLINED, decided_at__lt=cutoff
    )


def forget_declined_registrations(rows) -> int:
    """A declined registration's person is erased and the request deleted."""
    from mycareer.audit.personal_data import Subject, erase

    count = 0
    for registration in rows.select_related("user"):
        erase(Subject(users=[registration.user]))
        registration.delete()
        count += 1
    return count
