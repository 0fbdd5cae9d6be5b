"""An address opened the wrong way answers with a page that says so, not a blank 405."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_opening_a_buttons_address_as_a_link_explains_itself(client, persona):
    client.force_login(persona("operator"))
    response = client.get(reverse("organisations:saved_search_create"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert "This address is not opened this way" in page
    assert "press it there" in page


@pytest.mark.django_db
def test_sending_a_form_to_a_page_says_it_is_a_page(client, persona):
    client.force_login(persona("operator"))
    response = client.post(reverse("organisations:search"))
    assert response.status_code == 405
    assert "It is a page to open, not a form to send." in response.content.decode()


@pytest.mark.django_db
def test_the_api_answers_a_wrong_method_its_own_way(client):
    response = client.delete("/api/v1/organisations/")
    assert response.status_code in (404, 405)
    assert response["Content-Type"].startswith("application/json")
    assert "This address is not opened this way" not in response.content.decode()
