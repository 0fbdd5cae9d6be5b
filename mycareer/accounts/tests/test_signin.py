"""Signing in: per-person throttling behind a proxy, waits not lock-outs, ways back in,
and a second factor for administrators."""

import datetime
import logging
import re
import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from mycareer.accounts import signin
from mycareer.accounts.demo import DEMO_PASSWORD, demo_totp_code
from mycareer.audit.models import AuditEntry
from mycareer.core.clientip import client_ip

PROXY = "10.0.0.1"


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = [PROXY, "10.0.1.0/24"]
    return settings


def log_in(client, email, password, *, via=None, forwarded_for=None):
    extra = {}
    if via:
        extra["REMOTE_ADDR"] = via
    if forwarded_for:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


# The client's address ---------------------------------------------------------------


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_forwarded_header_is_ignored(settings):
    settings.BEHIND_PROXY = False
    assert client_ip(_request("192.0.2.9", "203.0.113.5")) == "192.0.2.9"


def test_behind_a_proxy_the_client_is_the_first_untrusted_hop_from_the_right(behind_proxy):
    # The client forged the left part; our proxies appended the rest.
    forwarded = "198.51.100.66, 203.0.113.5, 10.0.1.7"
    assert client_ip(_request(PROXY, forwarded)) == "203.0.113.5"
    assert client_ip(_request(PROXY, "2001:db8::5")) == "2001:db8::5"
    assert client_ip(_request(PROXY, "203.0.113.5:51234")) == "203.0.113.5"


def test_the_proxy_s_own_address_is_never_the_client(behind_proxy):
    assert client_ip(_request(PROXY, "")) is None
    assert client_ip(_request(PROXY, "10.0.1.7")) is None
    assert client_ip(_request(PROXY, "not-an-address")) is None
    # A connection that did not come through the proxy is its own client.
    assert client_ip(_request("192.0.2.9", "203.0.113.5")) == "192.0.2.9"


@pytest.mark.django_db
def test_behind_a_proxy_one_client_s_failures_do_not_block_another_client(
    client, cast, behind_proxy
):
    attacker = "203.0.113.5"
    for n in range(60):
        log_in(
            client,
            f"someone{n % 12}@demo.ac.uk",
            "guess",
            via=PROXY,
            forwarded_for=f"198.51.100.{n}, {attacker}",
        )
    # The attacker is slowed (by allauth's per-address limit and by ours)...
    refused = log_in(
        client, "operator@demo.ac.uk", DEMO_PASSWORD, via=PROXY, forwarded_for=attacker
    )
    assert refused.status_code == 429
    # ...but a colleague behind the same proxy logs in at once.
    other = log_in(
        client, "operator@demo.ac.uk", DEMO_PASSWORD, via=PROXY, forwarded_for="192.0.2.44"
    )
    assert other.status_code == 302
    # Failures were recorded against the client, never against the proxy.
    recorded = AccessAttempt.objects.filter(username__startswith="someone")
    assert set(recorded.values_list("ip_address", flat=True)) == {attacker}


# Waiting, not locked out --------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_passwords_make_the_next_try_wait_longer_and_longer_never_an_hour(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(4):
            assert log_in(client, "viewer@demo.ac.uk", "wrong").status_code == 200
        # Case and spaces do not make a different account.
        fifth = log_in(client, "  VIEWER@demo.ac.uk ", "wrong")
        assert fifth.status_code == 429
        assert "wait 1 minute" in fifth.content.decode()
        # While waiting, even the right password waits, and waiting tries do not count.
        assert log_in(client, "viewer@demo.ac.uk", DEMO_PASSWORD).status_code == 429
        assert signin.account_standing("viewer@demo.ac.uk").failures == 5

        clock.shift(datetime.timedelta(seconds=61))
        sixth = log_in(client, "viewer@demo.ac.uk", "wrong")
        assert sixth.status_code == 429
        assert "wait 2 minutes" in sixth.content.decode()
        clock.shift(datetime.timedelta(seconds=61))
        assert log_in(client, "viewer@demo.ac.uk", DEMO_PASSWORD).status_code == 429
        clock.shift(datetime.timedelta(seconds=60))
        assert log_in(client, "viewer@demo.ac.uk", DEMO_PASSWORD).status_code == 302
    # A success starts afresh.
    assert signin.account_standing("viewer@demo.ac.uk").failures == 0


def test_the_wait_grows_to_fifteen_minutes_and_no_further():
    free = 5
    assert signin.delay_after(4, free) == datetime.timedelta(0)
    assert signin.delay_after(5, free) == datetime.timedelta(minutes=1)
    assert signin.delay_after(7, free) == datetime.timedelta(minutes=4)
    assert signin.delay_after(10, free) == datetime.timedelta(minutes=15)
    assert signin.delay_after(10_000, free) == datetime.timedelta(minutes=15)


@pytest.mark.django_db
def test_another_account_is_not_slowed_by_one_account_s_failures(client, cast):
    for _ in range(6):
        log_in(client, "viewer@demo.ac.uk", "wrong")
    assert log_in(client, "operator@demo.ac.uk", DEMO_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_people_sharing_an_address_are_slowed_to_a_try_a_minute_never_shut_out(client, cast):
    campus = "192.0.2.200"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        AccessAttempt.objects.bulk_create(
            AccessAttempt(
                username=f"typo{n}@demo.ac.uk",
                ip_address=campus,
                user_agent="test",
                http_accept="text/html",
                path_info="/accounts/login/",
                get_data="",
                post_data="",
                failures_since_start=1,
            )
            for n in range(200)
        )
        standing = signin.address_standing(campus)
        assert standing.failures == 200
        assert standing.wait == datetime.timedelta(minutes=1)
        assert log_in(client, "operator@demo.ac.uk", DEMO_PASSWORD, via=campus).status_code == 429
        clock.shift(datetime.timedelta(seconds=61))
        assert log_in(client, "operator@demo.ac.uk", DEMO_PASSWORD, via=campus).status_code == 302


# Ways back in -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_successful_password_reset_lets_the_owner_in_at_once(client, cast):
    for _ in range(8):
        log_in(client, "viewer@demo.ac.uk", "wrong")
    assert log_in(client, "viewer@demo.ac.uk", DEMO_PASSWORD).status_code == 429

    client.post(reverse("account_reset_password"), {"email": "viewer@demo.ac.uk"})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    form_page = client.get(link, follow=True)
    new_password = "a-Fresh-start-2026"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302
    assert log_in(client, "viewer@demo.ac.uk", new_password).status_code == 302
    assert AuditEntry.objects.filter(action="accounts.signin.unlocked_by_reset").exists()


@pytest.mark.django_db
def test_an_administrator_sees_the_failures_and_clears_them(client, cast, persona, settings):
    settings.BEHIND_PROXY = False
    for _ in range(7):
        log_in(client, "operator@demo.ac.uk", "wrong", via="192.0.2.77")
    assert log_in(client, "operator@demo.ac.uk", DEMO_PASSWORD).status_code == 429

    admin, operator = persona("admin"), persona("operator")
    client.force_login(admin)
    url = reverse("accounts:access_edit", args=[operator.pk])
    page = client.get(url).content.decode()
    assert "5 failed sign-ins in the last hour" in page
    assert "192.0.2.77" in page
    listing = client.get(reverse("accounts:signin_attempts")).content.decode()
    assert "operator@demo.ac.uk" in listing

    assert client.post(url, {"do": "unlock"}).status_code == 302
    entry = AuditEntry.objects.get(action="accounts.signin.unlocked")
    assert entry.actor == admin and entry.person == operator
    # The failures stay listed: the page said "no failed sign-ins in the last hour" above them.
    cleared = client.get(url).content.decode()
    assert "192.0.2.77" in cleared
    assert "No failed sign-ins in the last hour" not in cleared
    assert "No failed sign-ins count against the account now" in cleared
    client.logout()
    assert log_in(client, "operator@demo.ac.uk", DEMO_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_failed_sign_ins_page_costs_few_queries(
    client, cast, persona, django_assert_max_num_queries
):
    for n in range(20):
        log_in(client, f"nobody{n}@demo.ac.uk", "wrong")
    client.force_login(persona("admin"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("accounts:signin_attempts"))
    assert response.content.decode().count("nobody") >= 20


# Administrators and their second factor ---------------------------------------------


@pytest.mark.django_db
def test_an_administrator_without_an_authenticator_is_sent_to_set_one_up(client, persona):
    admin = persona("admin")
    Authenticator.objects.filter(user=admin).delete()
    client.force_login(admin)
    response = client.get(reverse("accounts:access_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # Operator work goes on meanwhile.
    assert client.get(reverse("organisations:search")).status_code == 200


@pytest.mark.django_db
def test_the_demo_administrator_logs_in_with_password_and_authenticator_code(client, cast):
    response = log_in(client, "admin@demo.ac.uk", DEMO_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # Not logged in yet: the second step comes first.
    assert client.get(reverse("accounts:access_list")).status_code == 302
    done = client.post(reverse("mfa_authenticate"), {"code": demo_totp_code()})
    assert done.status_code == 302
    assert client.get(reverse("accounts:access_list")).status_code == 200


@pytest.mark.django_db
def test_wrong_authenticator_codes_make_the_next_try_wait_as_wrong_passwords_do(client, cast):
    """A six-digit code guessed without end is soon found: each wrong code (or recovery
    code) at the second step is a failed sign-in of the account, which administrators see."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert log_in(client, "admin@demo.ac.uk", DEMO_PASSWORD)["Location"] == reverse(
            "mfa_authenticate"
        )
        right = demo_totp_code()
        wrong = [code * 6 for code in "012345" if code * 6 != right][:5]
        for code in wrong[:4]:
            assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
        fifth = client.post(reverse("mfa_authenticate"), {"code": wrong[4]})
        assert fifth.status_code == 429
        assert "wait 1 minute" in fifth.content.decode()
        # While waiting, even the right code waits, and is not counted.
        assert client.post(reverse("mfa_authenticate"), {"code": right}).status_code == 429
        assert client.get(reverse("accounts:access_list")).status_code == 302
        assert signin.account_standing("admin@demo.ac.uk").failures == 5
        assert [row["username"] for row in signin.accounts_with_failures()] == ["admin@demo.ac.uk"]

        clock.shift(datetime.timedelta(seconds=61))
        done = client.post(reverse("mfa_authenticate"), {"code": demo_totp_code()})
        assert done.status_code == 302
        assert client.get(reverse("accounts:access_list")).status_code == 200
    assert signin.account_standing("admin@demo.ac.uk").failures == 0


@pytest.mark.django_db
def test_codes_sent_all_at_once_are_stopped_by_a_wide_limit_of_their_own(client, cast, settings):
    """Codes sent at once all pass the throttle's check before any is counted: the
    library's limit per account (10 a minute) still stops them. Shown with the throttle's
    free tries raised, as if every try had passed its check."""
    settings.MYCAREER = {**settings.MYCAREER, "SIGNIN_ACCOUNT_FREE_FAILURES": 100}
    with time_machine.travel(timezone.now(), tick=False):
        log_in(client, "admin@demo.ac.uk", DEMO_PASSWORD)
        right = demo_totp_code()
        wrong = "000000" if right != "000000" else "111111"
        pages = [client.post(reverse("mfa_authenticate"), {"code": wrong}) for _ in range(11)]
        refused = pages[-1].content.decode()
        assert "Incorrect code" not in refused  # not checked
        assert client.post(reverse("mfa_authenticate"), {"code": right}).status_code != 302
    assert [page.status_code for page in pages[:10]] == [200] * 10


@pytest.mark.django_db
def test_wrong_codes_when_asked_again_for_the_second_factor_count_too(client, cast):
    """A session left open is not a way to guess the code either (allauth's reauthentication)."""
    client.force_login(cast["staff"]["admin@demo.ac.uk"])
    right = demo_totp_code()
    for code in [code * 6 for code in "012345" if code * 6 != right][:5]:
        client.post(reverse("mfa_reauthenticate"), {"code": code})
    assert client.post(reverse("mfa_reauthenticate"), {"code": right}).status_code == 429
    assert signin.account_standing("admin@demo.ac.uk").failures == 5


def _refused_lines(caplog):
    return [r.getMessage() for r in caplog.records if "signin.refused" in r.getMessage()]


@pytest.mark.django_db
def test_wrong_passwords_when_asked_again_count_as_failed_sign_ins(client, cast, caplog):
    """Whoever holds a session may not guess its password at the library's per-minute
    pace either: the password asked again is a sign-in of the account."""
    client.force_login(cast["employer"])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(4):
            page = client.post(reverse("account_reauthenticate"), {"password": "wrong"})
            assert page.status_code == 200
        fifth = client.post(reverse("account_reauthenticate"), {"password": "wrong"})
        assert fifth.status_code == 429 and "wait 1 minute" in fifth.content.decode()
        assert signin.account_standing("employer@demo-employer.com").failures == 5
        # While waiting, even the right password is refused unchecked, and not counted.
        with caplog.at_level(logging.WARNING, logger="mycareer.accounts.signin"):
            right = client.post(reverse("account_reauthenticate"), {"password": DEMO_PASSWORD})
        assert right.status_code == 429 and "wait 1 minute" in right.content.decode()
        assert "account=employer@demo-employer.com" in _refused_lines(caplog)[0]
        assert signin.account_standing("employer@demo-employer.com").failures == 5
        clock.shift(datetime.timedelta(seconds=61))
        done = client.post(reverse("account_reauthenticate"), {"password": DEMO_PASSWORD})
        assert done.status_code == 302


@pytest.mark.django_db
def test_wrong_current_passwords_when_changing_it_count_as_failed_sign_ins(client, cast, caplog):
    """The change-password form's current password is a sign-in of the account too."""
    client.force_login(cast["employer"])
    new = "a-Fresh-passphrase-42"
    change = {"password1": new, "password2": new}
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(5):
            clock.shift(datetime.timedelta(seconds=13))  # under the library's 5 a minute
            page = client.post(
                reverse("account_change_password"), {"oldpassword": "wrong", **change}
            )
            assert page.status_code == (429 if n == 4 else 200)
        assert "wait 1 minute" in page.content.decode()
        assert signin.account_standing("employer@demo-employer.com").failures == 5
        clock.shift(datetime.timedelta(seconds=30))
        with caplog.at_level(logging.WARNING, logger="mycareer.accounts.signin"):
            right = client.post(
                reverse("account_change_password"), {"oldpassword": DEMO_PASSWORD, **change}
            )
        assert right.status_code == 429 and "wait 1 minute" in right.content.decode()
        assert _refused_lines(caplog)
        assert signin.account_standing("employer@demo-employer.com").failures == 5
        clock.shift(datetime.timedelta(seconds=31))
        done = client.post(
            reverse("account_change_password"), {"oldpassword": DEMO_PASSWORD, **change}
        )
        assert done.status_code == 302
    user = cast["employer"]
    user.refresh_from_db()
    assert user.check_password(new)


def test_a_failed_attempt_keeps_no_password_or_code_as_typed(client, cast):
    """A wrong current password counted as a failed sign-in kept the whole form in the
    attempt's record: the mistyped password and the new one, readable to anyone with the
    database or its backups."""
    from axes.models import AccessAttempt

    client.force_login(cast["employer"])
    new = "Brand-New-Secret-99"
    client.post(
        reverse("account_change_password"),
        {"oldpassword": "MyRealPasswordTypo1", "password1": new, "password2": new},
    )
    [attempt] = AccessAttempt.objects.all()
    assert "oldpassword" in attempt.post_data
    assert "MyRealPasswordTypo1" not in attempt.post_data and new not in attempt.post_data


@pytest.mark.django_db
def test_quick_wrong_current_passwords_are_told_to_wait_by_mycareer_not_the_library(client, cast):
    """The sixth quick try got the library's bare "Too Many Requests" page (its own five a
    minute), not the page saying how long to wait and what to do meanwhile."""
    client.force_login(cast["employer"])
    change = {"oldpassword": "wrong", "password1": "a-Fresh-pass-42", "password2": "x"}
    with time_machine.travel(timezone.now(), tick=False):
        pages = [client.post(reverse("account_change_password"), change) for _ in range(7)]
    assert [page.status_code for page in pages] == [200] * 4 + [429] * 3
    for page in pages[4:]:
        body = page.content.decode()
        assert "Wait before trying again" in body and "wait 1 minute" in body
        assert "Too Many Requests" not in body


@pytest.mark.django_db
def test_the_change_password_form_keeps_a_wide_limit_of_its_own(client, cast, settings):
    """Tries sent all at once from one session all pass the throttle's check before any
    is counted: the form's own limit (10 a minute) still stops them. Shown here with the
    throttle's free tries raised, as if every try had passed its check."""
    settings.MYCAREER = {**settings.MYCAREER, "SIGNIN_ACCOUNT_FREE_FAILURES": 100}
    client.force_login(cast["employer"])
    change = {"oldpassword": "wrong", "password1": "a-Fresh-pass-42", "password2": "x"}
    with time_machine.travel(timezone.now(), tick=False):
        pages = [client.post(reverse("account_change_password"), change) for _ in range(11)]
    assert [page.status_code for page in pages] == [200] * 10 + [429]
    assert "Wait before trying again" in pages[-1].content.decode()


@pytest.mark.django_db
def test_the_library_s_own_limits_answer_with_mycareer_s_page(client, caplog):
    """A limit MyCareer leaves to the library (here: password reset emails for one
    address) refuses in MyCareer's layout, saying to wait, with one log line."""
    with (
        time_machine.travel(timezone.now(), tick=False),
        caplog.at_level(logging.INFO, logger="mycareer.core.views"),
    ):
        pages = [
            client.post(reverse("account_reset_password"), {"email": "viewer@demo.ac.uk"})
            for _ in range(6)
        ]
    refused = pages[-1]
    assert refused.status_code == 429
    body = refused.content.decode()
    assert "Wait before trying again" in body and "Too Many Requests" not in body
    assert "<nav" in body or "<main" in body  # the site's own layout
    [line] = [r.getMessage() for r in caplog.records if "ratelimit.refused" in r.getMessage()]
    assert "path=/accounts/password/reset/" in line


# Employers: a second factor offered -------------------------------------------------


@pytest.mark.django_db
def test_an_employer_changes_their_password_from_their_home_page(client, cast):
    """Nothing linked to the password change, and the page was the sign-in library's own."""
    log_in(client, "employer@demo-employer.com", DEMO_PASSWORD)
    assert reverse("account_change_password") in client.get("/").content.decode()
    page = client.get(reverse("account_change_password"))
    html = page.content.decode()
    assert "<h1>Change your password</h1>" in html and "<ul>" in html  # the rules, a list
    new = "a-Fresh-passphrase-42"
    done = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEMO_PASSWORD, "password1": new, "password2": new},
    )
    assert done.status_code == 302
    client.post(reverse("account_logout"))
    signed_in = log_in(client, "employer@demo-employer.com", new)
    assert signed_in.status_code == 302
    assert client.get("/").wsgi_request.user.email == "employer@demo-employer.com"


@pytest.mark.django_db
def test_an_employer_is_offered_two_step_sign_in_and_then_asked_for_a_code(client, cast):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    log_in(client, "employer@demo-employer.com", DEMO_PASSWORD)
    home = client.get("/").content.decode()
    assert "Set up two-step sign-in" in home
    assert reverse("mfa_activate_totp") in home

    # allauth asks for the password again before a change to how one signs in.
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": DEMO_PASSWORD})
    form = client.get(reverse("mfa_activate_totp"))
    assert "your organisation's account" in form.content.decode()
    secret = form.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    done = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert done.status_code == 302
    employer = cast["employer"]
    assert Authenticator.objects.filter(user=employer, type=Authenticator.Type.TOTP).exists()
    assert "Turn two-step sign-in off" in client.get("/").content.decode()

    client.post(reverse("account_logout"))
    again = log_in(client, "employer@demo-employer.com", DEMO_PASSWORD)
    assert again["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("employer:activity")).status_code == 302  # not in yet
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.session.get("_auth_user_id") == str(employer.pk)


@pytest.mark.django_db
def test_an_employer_without_a_second_factor_still_signs_in_with_a_password(client, cast):
    response = log_in(client, "employer@demo-employer.com", DEMO_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] != reverse("mfa_authenticate")
    assert client.session.get("_auth_user_id") == str(cast["employer"].pk)
