"""Plain-text emails say "Calder & Wharfe", not "Calder &amp; Wharfe"."""

import pytest

from mycareer.core.mail import send_email


@pytest.mark.django_db
def test_plain_text_emails_are_not_html_escaped(mailoutbox, cast, persona):
    from mycareer.organisations.models import EmployerInvitation
    from mycareer.organisations.tests.factories import OrganisationFactory

    invitation = EmployerInvitation(
        organisation=OrganisationFactory(name="Calder & Wharfe LLP"),
        email="new.colleague@calderwharfe.co.uk",
        token="t0k3n",
        invited_by=persona("student4"),  # James O'Connor
    )
    send_email(
        to=[invitation.email],
        subject="Invitation",
        template="organisations/email/invitation.txt",
        context={"invitation": invitation},
    )
    body = mailoutbox[0].body
    assert "James O'Connor has invited you to join Calder & Wharfe LLP" in body
    assert "&amp;" not in body and "&#x27;" not in body
