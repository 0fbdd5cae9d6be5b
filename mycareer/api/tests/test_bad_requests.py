"""A request Django cannot read still gets the API's JSON shape, never an HTML page."""

import pytest


@pytest.mark.django_db
def test_a_host_the_site_does_not_serve_gets_a_json_400(client):
    response = client.get("/api/v1/organisations", HTTP_HOST="-:")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.django_db
def test_pages_keep_djangos_own_400(client):
    response = client.get("/organisations/", HTTP_HOST="-:")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
