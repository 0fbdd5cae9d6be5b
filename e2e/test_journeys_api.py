"""The API's interactive documentation in a real browser: Swagger UI from the project's
own static files, under the strict content security policy, listing every operation and
calling one with a token; and without JavaScript it points to the reference."""

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import accessibility_problems, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _operations() -> list[tuple[str, str]]:
    from mycareer.api import routes  # noqa: F401 (registers the endpoints)
    from mycareer.api.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return [(m.upper(), p) for p, methods in schema["paths"].items() for m in methods]


def test_an_operator_tries_the_api_in_the_interactive_documentation(page, site, viewport):
    from mycareer.accounts.models import User
    from mycareer.api import services
    from mycareer.api.models import Scope

    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A refused script or style is reported to the page as well as to the console.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('CSP refused ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    log_in(page, site, "operator@demo.ac.uk")
    page.goto(f"{site.url}/api/v1/docs/")
    page.get_by_role("link", name="Try the API").click()
    expect(page.get_by_role("heading", name="Try the API", level=1)).to_be_visible()
    # Every operation of the schema is listed, by method and path.
    operations = _operations()
    expect(page.locator(".opblock")).to_have_count(len(operations))
    shown = {
        (block.locator(".opblock-summary-method").inner_text(), block.get_attribute("id"))
        for block in page.locator(".opblock").all()
    }
    assert len(shown) == len(operations)
    # No file from another site: every script and style came from this one.
    sources = page.evaluate(
        "[...document.querySelectorAll('script[src], link[rel=stylesheet]')]"
        ".map(e => e.src || e.href)"
    )
    assert sources and all(src.startswith(site.url) for src in sources), sources
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    violations = accessibility_problems(page)

    # Authorise with a read token and call "GET /vacancies" from the page.
    operator = User.objects.get(email="operator@demo.ac.uk")
    _token, secret = services.token_create(
        owner=operator, by=operator, name="Trying the API", scopes=[Scope.READ]
    )
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_role("textbox").fill(secret)
    dialog.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close").last.click()
    expect(dialog).to_have_count(0)
    vacancies = page.locator(".opblock", has=page.locator("[data-path='/api/v1/vacancies']"))
    vacancies.locator(".opblock-summary-control").click()
    vacancies.get_by_role("button", name="Try it out").click()
    # The call goes to the live server, which may be slow on a busy machine: wait for
    # its answer itself, then for the page to show it.
    with page.expect_response(lambda r: r.url.startswith(f"{site.url}/api/v1/vacancies")) as sent:
        vacancies.get_by_role("button", name="Execute").click()
    assert sent.value.status == 200
    answer = vacancies.locator(".live-responses-table tbody td.response-col_status")
    expect(answer).to_have_text("200", timeout=15_000)
    assert problems == []
    assert violations == []


def test_without_javascript_the_page_sends_you_to_the_reference(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.url}/api/v1/docs/try/")
    page.get_by_role("link", name="API reference").last.click()
    expect(page.get_by_role("heading", name=re.compile("MyCareer API"), level=1)).to_be_visible()
    context.close()
