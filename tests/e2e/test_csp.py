"""The Content-Security-Policy in a real browser: a script slipped into a page does not run, and the API's
documentation pages (Swagger UI, ReDoc) still work under the policy their views are given (config/api.py).

The staff's and the public's pages are watched for refusals by the main-path and public-pages tests."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_script_injected_into_a_page_is_refused_and_reported(browser, live_server, csp_violations):
    page = csp_violations.watch(browser.new_context().new_page())
    response = page.goto(f"{live_server.url}/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy

    # What an XSS would do: put an inline script into the page. The policy keeps it from running.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected === undefined")
    assert any("script-src" in violation for violation in csp_violations), csp_violations


def test_the_api_documentation_works_under_its_policy(browser, live_server, csp_violations):
    page = csp_violations.watch(browser.new_context().new_page())

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock")  # the operations, drawn by the script the policy allowed
    assert "juece API" in page.locator("body").inner_text()

    page.goto(f"{live_server.url}/api/redoc/")
    page.fill("[role=search] input", "catalogue")  # the search runs in ReDoc's Web Worker
    page.wait_for_selector("[data-role='search:results'] li", timeout=10000)

    assert csp_violations == [], "\n".join(csp_violations)
