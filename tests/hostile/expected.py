"""The exact lines each hostile case must print (reviewed by hand; regenerate only after a deliberate change)."""

EXPECTED = {
    "unclosed flow mapping": (
        "content/events/talks.yml:4:8: (yaml): YAML syntax error: expected ',' or '}', but got ':'",
    ),
    "value where a key was expected": (
        "content/events/talks.yml:2:18: (yaml): YAML syntax error: mapping values are not allowed here",
    ),
    "unclosed quote": ("content/events/talks.yml:8:1: (yaml): YAML syntax error: found unexpected end of stream",),
    "bad indentation": (
        "content/events/talks.yml:5:3: (yaml): YAML syntax error: expected <block end>, but found '<block mapping start>'",
    ),
    "tab indentation": (
        "content/events/talks.yml:9:1: (yaml): YAML syntax error: found character '\\t' that cannot start any token",
    ),
    "two documents in one file": (
        "content/events/talks.yml:8:1: (yaml): YAML syntax error: expected a single document in the stream, but found another document",
    ),
    "byte-order mark": (
        "content/events/talks.yml:1:1: (file): file starts with a byte-order mark; save it as UTF-8 without BOM",
    ),
    "empty file": ("content/events/talks.yml:1:1: (file): file is empty",),
    "only a comment": ("content/events/talks.yml:1:1: (file): file is empty",),
    "binary garbage": ("content/events/talks.yml:2:118: (file): file is not valid UTF-8 text",),
    "latin-1 text": ("content/events/talks.yml:3:23: (file): file is not valid UTF-8 text",),
    "control character": ("content/events/talks.yml:4:53: (file): control character U+0007 is not allowed",),
    "escaped control character": (
        "content/events/talks.yml:4:46: summary.en: escape makes U+0007, which a text may not hold",
    ),
    "top level is a list": ("content/events/talks.yml:1:1: (top level): expected a map of fields",),
    "ten megabyte field": ("content/events/talks.yml:1:1: (file): file is larger than 1024 KiB",),
    "YAML 1.1 boolean": ("content/events/talks.yml:2:9: status: expected one of: happened, announced",),
    "sexagesimal number": (
        'content/events/talks.yml:1:7: date: expected a date as a quoted string: "2026-01-15", "2026-02" or "2008"',
    ),
    "unquoted number as title": ("content/events/talks.yml:3:33: title.en: expected a string",),
    "python tag": (
        "content/events/talks.yml:8:7: body: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    ),
    "billion laughs": ("content/events/talks.yml:2:8: (yaml): anchors and aliases are not allowed in content",),
    "deep nesting": ("content/events/talks.yml:1:39: (yaml): nested deeper than 32 levels",),
    "unknown field": (
        "content/events/talks.yml:8:1: colour: unknown field (expected one of: agreements, body, date, order, organizations, people, sources, status, summary, tags, title)",
    ),
    "wrong type": ("content/events/talks.yml:5:9: people: expected a list",),
    "missing required fields": (
        "content/events/talks.yml:1:1: sources: required field is missing",
        "content/events/talks.yml:1:1: status: required field is missing",
        "content/events/talks.yml:1:1: summary: required field is missing",
    ),
    "null title": (
        "content/events/talks.yml:3:7: title: is empty: expected a map of texts by language, such as {es: ..., en: ...}",
    ),
    "impossible date": ("content/events/talks.yml:1:7: date: 2026-02-30 is not a date: that month has no day 30",),
    "month thirteen": ("content/events/talks.yml:1:7: date: 2026-13 is not a date: there is no month 13",),
    "missing translation": ("content/events/talks.yml:3:8: title.en: missing translation",),
    "unknown language": (
        "content/events/talks.yml:3:40: title.fr: language 'fr' is not one of the site's languages (es, en)",
    ),
    "empty translation": ("content/events/talks.yml:3:33: title.en: expected a non-empty string",),
    "unknown person in a list": ("content/events/talks.yml:5:21: people[1]: unknown person 'nadie'",),
    "unknown reference in Markdown": (
        "content/events/talks.yml:8:12: body.es: in [[person:nadie]]: unknown person 'nadie'",
    ),
    "reference to the wrong kind": (
        "content/events/talks.yml:6:14: agreements[0]: 'ana-nunez' is a person, expected an agreement",
    ),
    "wrong kind in Markdown": (
        "content/events/talks.yml:8:12: body.es: in [[agreement:ana-nunez]]: 'ana-nunez' is a person, not an agreement",
    ),
    "unknown kind in Markdown": (
        "content/events/talks.yml:8:12: body.es: in [[place:mexico]]: unknown kind 'place' (expected one of: agreement, event, organization, person, quote, source, term)",
    ),
    "id leaving the site in a list": (
        "content/events/talks.yml:5:10: people[0]: expected an id: lowercase ASCII letters, digits and single '-'",
    ),
    "id leaving the site in Markdown": (
        "content/events/talks.yml:8:12: body.es: in [[person:../../x]]: unknown person '../../x'",
    ),
    "duplicate ids across kinds": (
        "content/people/talks.yml:1:1: id: duplicate id 'talks': content/events/talks.yml has it too",
    ),
    "cycle in replaces": (
        "content/agreements/new-pact.yml:5:11: replaces: 'replaces' makes a cycle through 'old-pact'",
        "content/agreements/old-pact.yml:3:11: replaces: 'replaces' makes a cycle through 'new-pact'",
    ),
    "unknown tag": (
        "content/events/talks.yml:8:8: tags[0]: unknown tag 'comercio' (tags are listed under 'tags' in content/site.yml)",
    ),
    "paragraph beyond the source": (
        "content/events/talks.yml:7:44: sources[0].paragraphs[1]: paragraph 99 does not exist: 'report' has 3",
    ),
    "paragraph zero": ("content/events/talks.yml:7:41: sources[0].paragraphs[0]: expected a number of at least 1",),
    "quote not in its paragraph": (
        "content/events/talks.yml:7:52: sources[0].quote: quote is not verbatim in paragraph(s) 3 of 'report'",
    ),
    "Markdown quote not verbatim": (
        "content/events/talks.yml:8:12: body.es: in [[quote:talks are cancelled]]: the words are not verbatim in the paragraphs cited (report)",
        "content/events/talks.yml:8:60: body.en: in [[quote:talks are cancelled]]: the words are not verbatim in the paragraphs cited (report)",
    ),
    "citation of an unknown source": ("content/events/talks.yml:7:20: sources[0].source: unknown source 'rumour'",),
    "source text missing": ("content/sources/report.yml:4:7: file: no such file: seeds/report.txt",),
    "upper-case file name": (
        "content/events/Talks2.yml:1:1: (file): file name must be the entry's id: lowercase ASCII letters, digits and single '-', then .yml",
    ),
    "ids differing only in case": (
        "content/people/Ana-Nunez.yml:1:1: (file): file name must be the entry's id: lowercase ASCII letters, digits and single '-', then .yml",
    ),
    "file name with a space": (
        "content/events/talks 2.yml:1:1: (file): file name must be the entry's id: lowercase ASCII letters, digits and single '-', then .yml",
    ),
    "non-ASCII file name": (
        "content/events/reunión.yml:1:1: (file): file name must be the entry's id: lowercase ASCII letters, digits and single '-', then .yml",
    ),
    "wrong extension": ("content/events/talks2.yaml:1:1: (file): entry files end in .yml",),
    "symlink out of the content": ("content/events/passwd.yml:1:1: (file): expected a regular file",),
    "unknown folder": (
        "content/places:1:1: (file): unexpected folder in content/ (expected site.yml, home.yml and the folders agreements, events, organizations, people, sources, terms)",
    ),
    "javascript link": (
        "content/events/talks.yml:8:12: body.es: link 'javascript:alert(1)' is refused: only http(s), mailto and site-relative links are allowed",
        "content/events/talks.yml:8:47: body.en: link 'JaVaScRiPt:alert(1)' is refused: only http(s), mailto and site-relative links are allowed",
    ),
    "obfuscated data link": (
        "content/events/talks.yml:8:12: body.es: link '&#100;ata:text/html;base64,PHNjcmlwdD4=' is refused: only http(s), mailto and site-relative links are allowed",
        "content/events/talks.yml:8:64: body.en: link 'vbscript:msgbox' is refused: only http(s), mailto and site-relative links are allowed",
    ),
    "site.yml without languages": ("content/site.yml:1:1: languages: required field is missing",),
    "a UI string missing in one language": (
        "layouts/strings/en.yml:1:1: nav.people: missing in language 'en' (present in es)",
        "layouts/strings/es.yml:1:1: nav.pople: missing in language 'es' (present in en)",
    ),
}
