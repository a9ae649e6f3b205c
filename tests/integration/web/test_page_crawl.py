"""Every page is reachable: the crawl of each demo user (``tests/_page_crawl.py``) opens every
GET page route of the app, and every link on a page leads to a page."""

from __future__ import annotations

import pytest

from _page_crawl import (
    NOT_PAGES,
    PUBLIC_PAGES,
    SEEDED_ROUTES,
    SiteCrawl,
    crawl_site,
    unreached_routes,
)
from _web_support import DemoCopy


@pytest.fixture(scope="module")
def site(web_demo: DemoCopy) -> SiteCrawl:
    return crawl_site(web_demo)


def test_every_page_route_is_reached_by_some_users_crawl(site: SiteCrawl) -> None:
    missing = unreached_routes(site)
    assert not missing, (
        f"no crawl reaches these page routes: {sorted(missing)} — link to them from a page "
        "(or, if they are not pages, add them to NOT_PAGES in tests/_page_crawl.py, saying why)"
    )


def test_the_allow_lists_name_routes_the_app_has(site: SiteCrawl) -> None:
    stale = (NOT_PAGES | PUBLIC_PAGES | SEEDED_ROUTES) - site.page_routes
    assert not stale, f"allow-listed routes the app no longer has: {sorted(stale)}"


def test_every_link_on_a_page_leads_to_a_page(site: SiteCrawl) -> None:
    from esgledger.server.web.pages import NAV

    # The navigation of the skeleton names every area of issue 13 before its pages exist
    # (each area's branch adds its route); a link there to a route not served yet is planned,
    # not broken. Any other link to no page route is a broken link.
    planned = {item.href for item in NAV} - site.page_routes
    broken = [
        p for p in site.problems if p.rsplit(" a link to ", 1)[-1].split(",")[0] not in planned
    ]
    assert not broken, "\n".join(broken)


def test_the_crawl_signs_in_as_every_demo_role(site: SiteCrawl) -> None:
    roles = {role for role, _scope in site.users.values()}
    assert roles == {"admin", "esg_office", "reviewer", "data_owner", "viewer", "auditor"}
    for username in site.users:
        assert any(p.route == "/" for p in site.pages_of(username)), username
    assert [p.route for p in site.pages_of(None)] == ["/sign-in"]
