"""Page weight budgets on the real site: what a reader on a slow phone downloads."""

import re

from tests.conftest import BuiltSite
from tests.support import site_files

HTML_BUDGET = 40 * 1024
CSS_BUDGET = 20 * 1024
JS_BUDGET = 20 * 1024


def test_every_page_stays_within_the_html_budget(real_site: BuiltSite):
    sizes = {
        p.relative_to(real_site.folder).as_posix(): p.stat().st_size for p in site_files(real_site.folder, ".html")
    }
    assert sizes
    assert {page: size for page, size in sizes.items() if size > HTML_BUDGET} == {}


def test_stylesheets_and_our_scripts_stay_within_budget(real_site: BuiltSite):
    assets = real_site.folder / "assets"
    css = sum(p.stat().st_size for p in assets.rglob("*.css"))
    js = sum(p.stat().st_size for p in assets.rglob("*.js"))
    assert 0 < css <= CSS_BUDGET
    assert 0 < js <= JS_BUDGET


def test_no_script_blocks_rendering_and_none_is_inline(real_site: BuiltSite):
    problems = []
    for page in site_files(real_site.folder, ".html"):
        for tag in re.findall(r"<script\b[^>]*>", page.read_text("utf-8")):
            if 'type="application/ld+json"' in tag:
                continue
            if "src=" not in tag:
                problems.append(f"{page.name}: inline script {tag}")
            elif 'type="module"' not in tag and " defer" not in tag and " async" not in tag:
                problems.append(f"{page.relative_to(real_site.folder)}: render-blocking {tag}")
    assert problems == []
