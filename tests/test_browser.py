"""What a reader does, in a real browser (Debian's Chromium driven by Playwright) against a local server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from explainer.timeline import timeline_facets
from tests.conftest import BuiltSite, build_real_site
from tests.support import SCREENSHOTS, serve_folder, site_files

WIDTHS = (375, 1280)


@pytest.fixture(scope="session")
def origin(real_site: BuiltSite) -> Iterator[str]:
    """The real site served on 127.0.0.1 at a free port."""
    with serve_folder(real_site.folder) as origin:
        yield origin


class Watched:
    """A page whose requests outside the local server and whose console errors are recorded."""

    def __init__(self, page: Page, origin: str):
        self.page = page
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self._request(request.url, origin))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _request(self, url: str, origin: str) -> None:
        if not url.startswith(origin + "/"):
            self.outside.append(url)


@pytest.fixture
def page(browser: Browser, origin: str) -> Iterator[Page]:
    """A fresh desktop-sized page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def page_paths(site: BuiltSite) -> list[str]:
    """Return the URL path of every HTML page of the built site."""
    paths = []
    for file in site_files(site.folder, ".html"):
        relative = file.relative_to(site.folder).as_posix()
        paths.append("/" + relative.removesuffix("index.html"))
    return paths


def page_kinds(site: BuiltSite) -> dict[str, str]:
    """Return one URL path per page kind and language, by a readable name."""
    model = site.model
    kinds = {"root": "/", "root-404": "/404.html"}
    person = next(p for p in model.people if not p.mentioned)
    for lang in model.site.languages:
        kinds[f"{lang}-home"] = site.urls.href(site.urls.home(lang))
        kinds[f"{lang}-404"] = site.urls.href(f"{lang}/404.html")
        for section in ("timeline", "people", "glossary", "organizations", "sources", "data"):
            kinds[f"{lang}-{section}"] = site.urls.href(site.urls.section(lang, section))
        kinds[f"{lang}-event"] = site.url_of(model.events[-1].id, lang)
        kinds[f"{lang}-person"] = site.url_of(person.id, lang)
        kinds[f"{lang}-agreement"] = site.url_of(model.agreements[-1].id, lang)
        kinds[f"{lang}-organization"] = site.url_of(model.organizations[0].id, lang)
    return kinds


def test_root_offers_each_language_and_leads_to_its_home(page: Page, origin: str, real_site: BuiltSite):
    for lang in real_site.model.site.languages:
        page.goto(origin + "/")
        page.locator(f'main a[hreflang="{lang}"]').click()
        assert page.url == origin + real_site.urls.href(real_site.urls.home(lang))
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").inner_text().strip()


@pytest.mark.parametrize("kind", ["event", "person", "agreement"])
def test_language_switch_lands_on_the_exact_counterpart(page: Page, origin: str, real_site: BuiltSite, kind: str):
    model = real_site.model
    entry = {"event": model.events[0], "person": model.people[0], "agreement": model.agreements[0]}[kind]
    languages = model.site.languages
    for here, there in zip(languages, languages[1:] + languages[:1], strict=True):
        page.goto(origin + real_site.url_of(entry.id, here))
        page.locator(f'.language-switcher a[hreflang="{there}"]').click()
        assert page.url == origin + real_site.url_of(entry.id, there)
        assert page.locator("html").get_attribute("lang") == there


def test_timeline_to_event_to_person_and_back(page: Page, origin: str, real_site: BuiltSite):
    model = real_site.model
    event = next(e for e in model.events if e.people)
    lang = model.site.default_language
    timeline = origin + real_site.urls.href(real_site.urls.section(lang, "timeline"))
    page.goto(timeline)
    page.locator(f'main a[href="{real_site.url_of(event.id, lang)}"]').first.click()
    assert page.url == origin + real_site.url_of(event.id, lang)
    person_url = real_site.url_of(event.people[0], lang)
    page.locator(f'main a[href="{person_url}"]').first.click()
    assert page.url == origin + person_url
    assert model.get(event.people[0]).name in page.locator("h1").inner_text()
    page.go_back()
    assert page.url == origin + real_site.url_of(event.id, lang)
    page.go_back()
    assert page.url == timeline


def _focus_is_visible(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            return {
                tag: el.tagName, text: el.textContent.trim(), href: el.getAttribute('href'),
                inViewport: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
                    && box.bottom <= innerHeight && box.right <= innerWidth,
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
            };
        }"""
    )


def test_keyboard_reaches_skip_link_and_navigation_visibly(page: Page, origin: str, real_site: BuiltSite):
    lang = real_site.model.site.default_language
    page.goto(origin + real_site.urls.href(real_site.urls.section(lang, "timeline")))
    page.keyboard.press("Tab")
    focused = _focus_is_visible(page)
    assert focused["href"] == "#main" and focused["inViewport"] and focused["outline"], focused
    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = _focus_is_visible(page)
        assert focused["inViewport"] and focused["outline"], focused
        seen.append(focused["href"])
        if focused["href"] == real_site.urls.href(real_site.urls.section(lang, "sources")):
            break
    sections = [real_site.urls.href(real_site.urls.section(lang, name)) for name in ("timeline", "people", "glossary")]
    assert all(section in seen for section in sections), seen
    # The skip link moves focus to the main content.
    page.goto(origin + real_site.urls.href(real_site.urls.section(lang, "timeline")))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_without_javascript_every_page_is_readable(browser: Browser, origin: str, real_site: BuiltSite):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for path in page_paths(real_site):
        response = page.goto(origin + path)
        assert response is not None and response.ok, path
        main = page.locator("main")
        assert main.count() == 1, path
        assert len(main.inner_text().strip()) > 40, path
        assert main.is_visible(), path
    context.close()


def test_no_request_leaves_the_server_and_no_console_errors(browser: Browser, origin: str, real_site: BuiltSite):
    context = browser.new_context()
    page = context.new_page()
    watched = Watched(page, origin)
    for path in page_paths(real_site):
        page.goto(origin + path, wait_until="networkidle")
    context.close()
    assert watched.outside == []
    assert watched.errors == []


def test_screenshots_of_every_page_kind(browser: Browser, origin: str, real_site: BuiltSite):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for name, path in page_kinds(real_site).items():
            page.goto(origin + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
            target = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 1000
        context.close()


def test_axe_finds_no_violations_on_any_page_kind(browser: Browser, origin: str, real_site: BuiltSite):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    found = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        for name, path in page_kinds(real_site).items():
            page.goto(origin + path)
            results = axe.run(page, options=options)
            assert results.response["passes"], f"axe checked nothing on {name}"
            violations = results.response["violations"]
            if violations:
                found[f"{name} ({scheme})"] = [
                    (v["id"], [node["target"] for node in v["nodes"]][:3]) for v in violations
                ]
        context.close()
    assert found == {}


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _search(page: Page, origin: str, site: BuiltSite, lang: str, query: str) -> list[str]:
    page.goto(origin + site.urls.href(site.urls.section(lang, "search")))
    page.locator("#search-query").fill(query)
    page.locator("#search-query").press("Enter")
    page.locator("#search-status").filter(has_text=query).wait_for()
    return [link.get_attribute("href") for link in page.locator("#search-results a").all()]


def test_search_finds_a_framework_in_each_language_and_only_there(page: Page, origin: str, real_site: BuiltSite):
    watched = Watched(page, origin)
    for lang in real_site.model.site.languages:
        hrefs = _search(page, origin, real_site, lang, "Mérida")
        home = real_site.urls.href(real_site.urls.home(lang))
        assert hrefs, f"no result for Mérida in {lang}"
        assert all(href.startswith(home) for href in hrefs), hrefs
        merida = next(a for a in real_site.model.agreements if "merida" in a.id)
        assert real_site.url_of(merida.id, lang) in hrefs
        page.locator("#search-results a").first.click()
        assert page.locator("html").get_attribute("lang") == lang
    assert watched.outside == [] and watched.errors == []


@pytest.fixture(scope="session")
def sharded_site(tmp_path_factory) -> BuiltSite:
    """The real site with its search index split into bundles of about 20 pages."""
    import explainer.search

    size, explainer.search.SHARD_PAGES = explainer.search.SHARD_PAGES, 20
    try:
        return build_real_site(tmp_path_factory.mktemp("sharded-site") / "site")
    finally:
        explainer.search.SHARD_PAGES = size


def _all_results(page: Page, origin: str, site: BuiltSite, lang: str, query: str) -> tuple[str, set[str]]:
    hrefs = _search(page, origin, site, lang, query)
    # The page shows the first 30 results; the status gives how many there are in all.
    status = page.locator("#search-status").inner_text()
    assert len(hrefs) < 30, f"{query}: too many results to compare them all"
    return status, set(hrefs)


@pytest.mark.parametrize("query", ["Mérida", "fentanilo", "embajador"])
def test_search_over_many_bundles_finds_what_one_bundle_finds(
    browser: Browser, page: Page, origin: str, real_site: BuiltSite, sharded_site: BuiltSite, query: str
):
    bundles = page_bundles(sharded_site)
    assert len(bundles) >= 5, bundles
    whole = _all_results(page, origin, real_site, "es", query)
    with serve_folder(sharded_site.folder) as sharded_origin:
        other = browser.new_page()
        watched = Watched(other, sharded_origin)
        split = _all_results(other, sharded_origin, sharded_site, "es", query)
        other.close()
    assert whole[1], f"no result for {query}"
    assert split == whole
    assert watched.outside == [] and watched.errors == []


def test_the_search_page_asks_for_its_bundles_all_at_once(browser: Browser, sharded_site: BuiltSite):
    # Merging a bundle costs two requests, one after the other: bundles merged in turn kept a reader
    # of a large site (64 bundles) waiting 7 s on a link with 40 ms of latency, 2.4 s merged at once.
    with serve_folder(sharded_site.folder) as origin:
        page = browser.new_page()
        network = page.context.new_cdp_session(page)
        network.send("Network.enable")
        network.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        asked: set[str] = set()
        waiting: set[str] = set()
        most = 0

        def started(request) -> None:
            nonlocal most
            if urlsplit(request.url).path.endswith("/pagefind-entry.json"):
                asked.add(request.url)
                waiting.add(request.url)
                most = max(most, len(waiting))

        page.on("request", started)
        page.on("requestfinished", lambda request: waiting.discard(request.url))
        page.on("requestfailed", lambda request: waiting.discard(request.url))
        assert _search(page, origin, sharded_site, "es", "Mérida")
        page.close()
    bundles = page_bundles(sharded_site)
    assert len(asked) == len(bundles)
    # The first bundle is loaded before the others are merged: those are asked for together.
    assert most >= len(bundles) - 1, (most, len(bundles))


def page_bundles(site: BuiltSite) -> list[str]:
    """Return the search bundles the search page of a built site merges."""
    html = (site.folder / site.urls.section("es", "search").lstrip("/") / "index.html").read_text("utf-8")
    return html.split('data-bundles="', 1)[1].split('"', 1)[0].split()


@pytest.fixture(scope="session")
def subpath_site(tmp_path_factory) -> BuiltSite:
    """The real site built for deployment under a sub-path."""
    return build_real_site(tmp_path_factory.mktemp("subpath-site") / "site", base_url="/explainers/security/")


def test_a_sub_path_deployment_keeps_links_assets_and_search_working(browser: Browser, subpath_site: BuiltSite):
    with serve_folder(subpath_site.folder, prefix="/explainers/security/") as origin:
        context = browser.new_context()
        page = context.new_page()
        watched = Watched(page, origin)
        page.goto(origin + "/explainers/security/")
        page.locator('main a[hreflang="en"]').click()
        assert page.url == origin + "/explainers/security/en/"
        page.wait_for_load_state("load")  # a click waits for the navigation, not for its stylesheet
        stylesheet = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "serif" in stylesheet or "sans" in stylesheet or "system-ui" in stylesheet
        page.locator(".main-nav a").first.click()
        assert page.url.startswith(origin + "/explainers/security/en/")
        hrefs = _search(page, origin, subpath_site, "en", "Mérida")
        assert hrefs and all(href.startswith("/explainers/security/en/") for href in hrefs), hrefs
        page.locator("#search-results a").first.click()
        assert page.locator("h1").inner_text()
        context.close()
    assert watched.outside == [] and watched.errors == []


def _visible_events(page: Page) -> list[str]:
    return [item.get_attribute("id") for item in page.locator(".timeline-item").all() if item.is_visible()]


def test_timeline_filters_work_instantly_with_javascript(page: Page, origin: str, real_site: BuiltSite):
    model = real_site.model
    lang = model.site.default_language
    person = max(model.people, key=lambda p: len(model.events_of.get(p.id, ())))
    expected = [e.id for e in model.events if person.id in e.people]
    timeline = origin + real_site.urls.href(real_site.urls.section(lang, "timeline"))
    page.goto(timeline)
    requests = []
    page.on("request", lambda request: request.resource_type == "document" and requests.append(request.url))
    page.locator(f'.filters a[data-filter="person:{person.id}"]').click()
    assert _visible_events(page) == expected
    assert requests == [], "filtering must not load a page"
    assert page.url == origin + real_site.urls.href(real_site.urls.facet(lang, "person", person.id))
    status = page.locator("[data-filter-status]").inner_text()
    assert f"{len(expected)} " in status and person.short_name in status
    # The overview, drawn for every event, would show events the list does not: it waits for them.
    assert not page.locator(".overview").is_visible()
    page.go_back()
    assert page.url == timeline
    assert len(_visible_events(page)) == len(model.events)
    assert page.locator(".overview").is_visible()
    # The filtered address is a real page too: reloading it shows the same events.
    page.goto(origin + real_site.urls.href(real_site.urls.facet(lang, "person", person.id)))
    assert _visible_events(page) == expected


def test_timeline_filters_are_real_pages_without_javascript(browser: Browser, origin: str, real_site: BuiltSite):
    model = real_site.model
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    facets = timeline_facets(model)
    assert {facet.kind for facet in facets} >= {"person", "tag"}
    for lang in model.site.languages:
        for facet in facets:
            page.goto(origin + real_site.urls.href(real_site.urls.section(lang, "timeline")))
            page.locator(f'.filters a[data-filter="{facet.kind}:{facet.value}"]').click()
            assert page.url == origin + real_site.urls.href(real_site.urls.facet(lang, facet.kind, facet.value))
            assert _visible_events(page) == [event.id for event in facet.events]
    context.close()


def test_on_a_phone_a_filtered_overview_of_two_periods_shows_every_mark(
    browser: Browser, origin: str, real_site: BuiltSite
):
    # The Mérida Initiative's events are in 2008 and 2021: a chart drawn across a column would show only
    # 2008 on a 375-px screen, the rest of it scrolled out of sight.
    context = browser.new_context(viewport={"width": 375, "height": 900})
    page = context.new_page()
    for lang in real_site.model.site.languages:
        page.goto(origin + real_site.urls.href(real_site.urls.facet(lang, "agreement", "iniciativa-merida")))
        marks = page.locator(".overview svg a")
        assert marks.count() == 2
        for mark in marks.all():
            box = mark.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    context.close()


def test_overview_marks_lead_to_their_events(page: Page, origin: str, real_site: BuiltSite):
    model = real_site.model
    lang = model.site.languages[-1]
    page.goto(origin + real_site.urls.href(real_site.urls.section(lang, "timeline")))
    marks = page.locator(".overview svg a")
    assert marks.count() == len(model.events)
    hrefs = sorted(mark.get_attribute("href") for mark in marks.all())
    assert hrefs == sorted(real_site.url_of(e.id, lang) for e in model.events)
    assert page.locator(".overview figcaption").inner_text().strip()
    marks.last.click()
    assert page.url == origin + real_site.url_of(model.events[-1].id, lang)


def test_the_footer_leads_to_the_data_page_and_its_feeds(page: Page, origin: str, real_site: BuiltSite):
    for lang in real_site.model.site.languages:
        page.goto(origin + real_site.urls.href(real_site.urls.home(lang)))
        page.locator(f'footer a[href="{real_site.urls.href(real_site.urls.section(lang, "data"))}"]').click()
        for kind in ("application/atom+xml", "text/calendar", "application/json"):
            href = page.locator(f'main a[type="{kind}"]').get_attribute("href")
            response = page.request.get(origin + href)
            assert response.ok and len(response.body()) > 500, href


def test_json_ld_is_read_as_data_and_breaks_no_content_security_policy(
    browser: Browser, origin: str, real_site: BuiltSite
):
    context = browser.new_context()
    # Recorded from the start of each page, before its own policy applies.
    context.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective));"
    )
    page = context.new_page()
    watched = Watched(page, origin)
    for name, path in page_kinds(real_site).items():
        page.goto(origin + path, wait_until="networkidle")
        blocks = page.evaluate(
            "[...document.querySelectorAll('script[type=\"application/ld+json\"]')].map(s => JSON.parse(s.textContent))"
        )
        assert page.evaluate("window.violations") == [], name
        if "404" in name or name == "root":
            assert blocks == [], name
        else:
            assert len(blocks) == 1 and blocks[0]["url"].endswith(path), name
    context.close()
    assert watched.errors == []
