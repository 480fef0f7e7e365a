"""The CSP in a real browser: the pages break none of it, the API docs render offline."""

from __future__ import annotations

import pytest

from tests.e2e.test_pages import SCREENSHOTS, _seed


def _watch(page, live_server) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Console errors (a CSP violation is one) and any request leaving this server."""
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):  # type: ignore[no-untyped-def]
        if r.request.url.startswith(live_server.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return errors, outside


@pytest.mark.e2e
def test_board_and_faq_show_no_csp_violation(live_server, browser, settings):  # type: ignore[no-untyped-def]
    live_server.run(_seed(settings))
    page = browser.new_page()
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/faq")
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv01")
    page.fill("#password", "dtv01-1022")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    # The stylesheet applied: it is a file now, not an inline <style>.
    assert page.eval_on_selector("header", "e => getComputedStyle(e).display") == "flex"
    assert errors == [] and outside == []


@pytest.mark.e2e
def test_api_docs_render_the_operations_with_no_network(live_server, browser):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = _watch(page, live_server)
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/cases" in p for p in paths), paths
    assert errors == [] and outside == []
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))
