"""User-entered text is inert wherever it is shown: no stored script ever runs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mycareer.organisations import services
from mycareer.vacancies import services as vacancy_services

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("owned")</script>'


def test_script_in_an_organisation_name_a_note_and_a_vacancy_is_escaped_everywhere(client, persona):
    operator = persona("operator")
    org = services.organisation_create(
        by=operator, name=f"{SCRIPT} Holdings", description=SCRIPT, confirm_duplicates=True
    )
    services.contact_create(
        organisation=org, by=operator, full_name=SCRIPT, email="x@holdings.example.com"
    )
    services.note_create(organisation=org, by=operator, text=f"Met them {SCRIPT}")
    vacancy = vacancy_services.vacancy_create(
        organisation=org,
        by=operator,
        title=f"Graduate {SCRIPT}",
        description=SCRIPT,
        type="graduate_job",
        location="Leeds",
        closing_date=timezone.localdate() + datetime.timedelta(days=30),
        apply_url="https://holdings.example.com/jobs",
    )
    pages = {
        "operator": [
            org.get_absolute_url(),
            reverse("organisations:search") + "?text=Holdings",
            reverse("organisations:my_activity"),
            reverse("vacancies:moderation"),
            reverse("vacancies:detail", args=[vacancy.pk]),
            "/",
        ],
        "student": [
            org.get_absolute_url(),
            reverse("vacancies:list"),
            reverse("vacancies:detail", args=[vacancy.pk]),
        ],
    }
    for who, urls in pages.items():
        client.force_login(persona(who))
        for url in urls:
            body = client.get(url).content.decode()
            assert SCRIPT not in body, f"{who} {url}"
    client.force_login(persona("operator"))
    body = client.get(org.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; Holdings" in body
