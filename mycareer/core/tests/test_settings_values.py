"""Settings from the environment: read as written, or refused with the setting's name.

A mistyped value must stop the start with a message that says which setting and what it
takes (not a bare ValueError), and never be read as something else: "ture" for
BULK_EMAIL_NEEDS_APPROVAL read as "off" would let campaigns go out unapproved.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured

from mycareer.core.tests.processes import settings_process
from mycareer.settings import env_bool, env_int, env_number


@pytest.mark.parametrize(
    ("written", "read"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False), ("off", False)],
)
def test_a_yes_or_no_setting_reads_the_usual_words(monkeypatch, written, read):
    monkeypatch.setenv("SOME_SWITCH", written)
    assert env_bool("SOME_SWITCH", not read) is read


def test_a_yes_or_no_setting_left_empty_keeps_its_default(monkeypatch):
    monkeypatch.setenv("SOME_SWITCH", "")
    assert env_bool("SOME_SWITCH", True) is True
    monkeypatch.delenv("SOME_SWITCH")
    assert env_bool("SOME_SWITCH", False) is False


@pytest.mark.parametrize("written", ["ture", "enabled", "2"])
def test_a_mistyped_yes_or_no_is_refused_not_read_as_no(monkeypatch, written):
    monkeypatch.setenv("SOME_SWITCH", written)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_bool("SOME_SWITCH", True)
    assert str(refused.value) == (
        f"SOME_SWITCH must be one of 1, true, yes, on or 0, false, no, off, not '{written}'."
    )


def test_a_whole_number_setting_reads_whole_numbers_only(monkeypatch):
    monkeypatch.setenv("SOME_COUNT", " 42 ")
    assert env_int("SOME_COUNT", 7) == 42
    monkeypatch.setenv("SOME_COUNT", "")
    assert env_int("SOME_COUNT", 7) == 7
    for written in ("0.5", "-3", "ten", "4e2"):
        monkeypatch.setenv("SOME_COUNT", written)
        with pytest.raises(ImproperlyConfigured, match=r"^SOME_COUNT must be a whole number"):
            env_int("SOME_COUNT", 7)


def test_a_rate_takes_fractions_but_not_less_than_nothing(monkeypatch):
    monkeypatch.setenv("SOME_RATE", "0.5")
    assert env_number("SOME_RATE", 20) == 0.5
    monkeypatch.setenv("SOME_RATE", "0")
    assert env_number("SOME_RATE", 20) == 0
    for written in ("-1", "fast", "nan", "inf"):
        monkeypatch.setenv("SOME_RATE", written)
        with pytest.raises(ImproperlyConfigured, match=r"^SOME_RATE must be a number of 0 or more"):
            env_number("SOME_RATE", 20)


READ = (
    "from django.conf import settings; "
    "print(*(settings.MYCAREER[k] for k in ('BULK_EMAIL_RATE', 'BULK_EMAIL_NEEDS_APPROVAL')))"
)


def test_the_bulk_email_rate_may_be_one_message_every_two_seconds(tmp_path):
    started = settings_process(
        tmp_path, READ, BULK_EMAIL_RATE="0.5", BULK_EMAIL_NEEDS_APPROVAL="yes"
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["0.5", "True"]


def test_a_process_with_a_mistyped_setting_stops_and_names_it(tmp_path):
    started = settings_process(tmp_path, READ, BULK_EMAIL_NEEDS_APPROVAL="ture")
    assert started.returncode != 0
    assert started.stdout == ""
    assert started.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: BULK_EMAIL_NEEDS_APPROVAL must be one "
        "of 1, true, yes, on or 0, false, no, off, not 'ture'."
    )
