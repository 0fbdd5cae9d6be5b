"""Booking under load: 200 students at once for a 50-place event.

Each student books over HTTP through the server, with the booking form's own POST (a
session made in-process for each, since 200 password logins would only measure
password hashing). Without a server address, 200 threads call the booking service
directly against the same database.
"""

import functools
import threading
import time

from bench.measure import percentile, released_together

CLIENTS = 200
PLACES = 50


def run_booking_benchmark(*, base_url: str | None) -> dict:
    """Confirmed, waiting and failed bookings, bookings per second and the p95."""
    event = _event_with_places(PLACES)
    students = _students(CLIENTS)
    if base_url:
        outcome = _over_http(base_url, _booking_path(event), event, students)
        outcome["via"] = "HTTP"
    else:
        outcome = _through_service(event, students)
        outcome["via"] = "service, 200 threads"
    outcome.update(_counts(event))
    return outcome


def _event_with_places(places: int):
    import datetime

    from django.utils import timezone

    from mycareer.accounts.models import Unit, User
    from mycareer.bookings import services as bookings
    from mycareer.events import services as events

    admin = User.objects.get(email="admin@demo.ac.uk")
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=10)
    event = events.event_create(
        by=admin,
        title="Booking benchmark: 50 places",
        unit=Unit.objects.order_by("pk").first(),
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        open_to_all=True,
    )
    events.event_publish(event=event, by=admin, override_reason="Benchmark event.")
    bookings.booking_settings_update(event=event, by=admin, capacity=places, waiting_list=True)
    return event


def _students(count: int) -> list:
    from mycareer.accounts.models import User
    from mycareer.core.benchseed import STUDENT_EMAIL_DOMAIN

    return list(
        User.objects.filter(email__endswith=f"@{STUDENT_EMAIL_DOMAIN}").order_by("pk")[:count]
    )


def _booking_path(event) -> str:
    from django.urls import reverse

    return reverse("bookings:book", args=[event.pk])


def _counts(event) -> dict:
    from mycareer.bookings.models import Booking, WaitlistEntry

    confirmed = Booking.objects.filter(event=event, status=Booking.Status.CONFIRMED).count()
    waiting = WaitlistEntry.objects.filter(event=event, status=WaitlistEntry.Status.WAITING).count()
    return {"confirmed": confirmed, "waiting": waiting, "expected": [PLACES, CLIENTS - PLACES]}


def _through_service(event, students) -> dict:
    from django.db import connections

    from mycareer.bookings.services import booking_create

    seconds: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def book(student):
        started = time.perf_counter()
        try:
            booking_create(event=event, student=student, by=student)
        except Exception as error:  # every failure is a figure to report
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            with lock:
                seconds.append(time.perf_counter() - started)
            connections.close_all()

    elapsed = released_together([functools.partial(book, s) for s in students])
    return _figures(seconds, errors, elapsed)


def logged_in_session(base_url: str, user):
    """A session for `user` on the server at `base_url`, made in-process (no password cost)."""
    from django.conf import settings
    from django.test import Client

    from bench.http import Session

    client = Client()
    client.force_login(user)
    session = Session(base_url)
    name = settings.SESSION_COOKIE_NAME
    session.cookies[name] = client.cookies[name].value
    return session


def _over_http(base_url: str, path: str, event, students) -> dict:
    from django.conf import settings

    sessions = []
    for student in students:
        session = logged_in_session(base_url, student)
        page = session.get(event.get_absolute_url())  # sets the CSRF cookie
        sessions.append((session, page))
    seconds: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def book(session):
        token = session.cookies.get(settings.CSRF_COOKIE_NAME, "")
        response = session.post_form(path, {"csrfmiddlewaretoken": token})
        with lock:
            seconds.append(response.seconds)
            if response.status >= 400:
                errors.append(f"HTTP {response.status}")

    elapsed = released_together([functools.partial(book, s) for s, _ in sessions])
    return _figures(seconds, errors, elapsed)


def _figures(seconds: list[float], errors: list[str], elapsed: float) -> dict:
    return {
        "clients": len(seconds),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "bookings_per_second": len(seconds) / elapsed if elapsed else None,
        "p95_ms": percentile([s * 1000 for s in seconds], 0.95) if seconds else None,
    }
