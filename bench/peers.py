"""The benchmark corpus rewritten for Hugo and Pelican: the same entries, texts and links, both languages."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

KINDS = {"events": "event", "people": "person", "agreements": "agreement", "terms": "term"}
REFERENCE = re.compile(r"\[\[([a-z]+):([a-z0-9-]+)(?:\|([^\]]+))?\]\]")
SECTION = {"event": "events", "person": "people", "agreement": "agreements", "term": "terms", "quote": "quotes"}


def _entries(corpus: Path):
    for folder, kind in KINDS.items():
        for path in sorted((corpus / "content" / folder).glob("*.yml")):
            yield kind, folder, path.stem, yaml.safe_load(path.read_text("utf-8"))


def _title(kind: str, data: dict, lang: str) -> str:
    if kind == "person":
        return data["name"]
    value = data.get("title") or data.get("name") or data.get("term")
    return value[lang]


def _body(kind: str, data: dict, lang: str, prefix: str) -> str:
    text = (data.get("body") or data.get("bio") or data.get("definition") or {}).get(lang, "")
    summary = data.get("summary", {}).get(lang, "")

    def link(match: re.Match) -> str:
        target_kind, target, label = match.groups()
        return f"[{label or target}]({prefix}/{lang}/{SECTION.get(target_kind, target_kind)}/{target}/)"

    return REFERENCE.sub(link, f"{summary}\n\n{text}")


def _date(kind: str, data: dict) -> str:
    date = str(data.get("date") or "2000-01-01")
    return (date + "-01-01")[:10] if len(date) < 10 else date


def write_hugo_site(corpus: Path, site: Path) -> Path:
    """Write a Hugo site with the corpus in /es/ and /en/, minimal layouts, and return its folder."""
    (site / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
    (site / "config.toml").write_text(
        'baseURL = "https://example.org/"\ndefaultContentLanguage = "es"\ndefaultContentLanguageInSubdir = true\n'
        'disableKinds = ["RSS", "sitemap", "robotsTXT"]\n[taxonomies]\ntag = "tags"\n'
        '[languages.es]\nweight = 1\ncontentDir = "content/es"\n[languages.en]\nweight = 2\ncontentDir = "content/en"\n',
        "utf-8",
    )
    layouts = site / "layouts" / "_default"
    (layouts / "baseof.html").write_text(
        '<!DOCTYPE html><html lang="{{ .Language.Lang }}"><head><meta charset="utf-8"><title>{{ .Title }}</title>'
        '<link rel="stylesheet" href="/style.css"></head><body><nav><a href="{{ .Site.Home.RelPermalink }}">Home</a>'
        '{{ range .Translations }} <a href="{{ .RelPermalink }}">{{ .Language.Lang }}</a>{{ end }}</nav>'
        '<main>{{ block "main" . }}{{ end }}</main></body></html>\n',
        "utf-8",
    )
    (layouts / "single.html").write_text(
        '{{ define "main" }}<h1>{{ .Title }}</h1><p>{{ .Date.Format "2006-01-02" }}</p>{{ .Content }}'
        "{{ range .Params.tags }}<span>{{ . }}</span>{{ end }}{{ end }}\n",
        "utf-8",
    )
    (layouts / "list.html").write_text(
        '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>'
        "</li>{{ end }}</ul>{{ end }}\n",
        "utf-8",
    )
    for kind, folder, entry_id, data in _entries(corpus):
        for lang in ("es", "en"):
            target = site / "content" / lang / folder / f"{entry_id}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            front = {
                "title": _title(kind, data, lang),
                "date": _date(kind, data),
                "translationKey": entry_id,
                "slug": entry_id,
                "tags": data.get("tags", []),
            }
            body = _body(kind, data, lang, "")
            target.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body + "\n", "utf-8")
    return site


def write_pelican_site(corpus: Path, site: Path) -> Path:
    """Write a Pelican site with the corpus as articles in two languages, and return its folder."""
    content = site / "content"
    content.mkdir(parents=True, exist_ok=True)
    (site / "pelicanconf.py").write_text(
        'SITENAME = "Corpus"\nSITEURL = ""\nDEFAULT_LANG = "es"\nTIMEZONE = "UTC"\nPATH = "content"\n'
        'OUTPUT_PATH = "output"\nFEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\nTRANSLATION_FEED_ATOM = None\n'
        "AUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\nDEFAULT_PAGINATION = False\nRELATIVE_URLS = True\n"
        'ARTICLE_URL = "{lang}/{category}/{slug}/"\nARTICLE_SAVE_AS = "{lang}/{category}/{slug}/index.html"\n'
        'ARTICLE_LANG_URL = "{lang}/{category}/{slug}/"\nARTICLE_LANG_SAVE_AS = "{lang}/{category}/{slug}/index.html"\n',
        "utf-8",
    )
    for kind, folder, entry_id, data in _entries(corpus):
        for lang in ("es", "en"):
            lines = [
                f"Title: {_title(kind, data, lang)}",
                f"Date: {_date(kind, data)}",
                f"Category: {folder}",
                f"Slug: {entry_id}",
                f"Lang: {lang}",
            ]
            if data.get("tags"):
                lines.append("Tags: " + ", ".join(data["tags"]))
            body = _body(kind, data, lang, "")
            (content / f"{entry_id}-{lang}.md").write_text("\n".join(lines) + "\n\n" + body + "\n", "utf-8")
    return site
