"""Every kind of content mistake gives one exact compiler-style line, all of them at once."""

from explainer.pipeline import build
from tests.conftest import errors_of, tree_digest, write


def test_wrong_type_names_field_line_and_column(project):
    write(
        project,
        "content/people/bo-lee.yml",
        "name: Bo Lee\ncountry: us\nsummary: {es: Uno., en: 3}\nsources: [{source: report, paragraphs: [1]}]\n",
    )
    assert errors_of(project) == ["content/people/bo-lee.yml:3:25: summary.en: expected a string"]


def test_nested_role_field(project):
    write(
        project,
        "content/people/bo-lee.yml",
        "name: Bo Lee\ncountry: us\nsummary: {es: Uno., en: One.}\nroles:\n  - title:\n      es: Ministro\n      en: [Minister]\n"
        "sources: [{source: report, paragraphs: [1]}]\n",
    )
    assert errors_of(project) == ["content/people/bo-lee.yml:7:11: roles[0].title.en: expected a string"]


def test_syntax_error(project):
    write(project, "content/terms/border.yml", "term: {es: Frontera, en: Border\ndefinition: x\n")
    assert errors_of(project) == [
        "content/terms/border.yml:2:11: (yaml): YAML syntax error: expected ',' or '}', but got ':'"
    ]


def test_missing_translation(project):
    path = project.root / "content/events/talks.yml"
    path.write_text(
        path.read_text("utf-8").replace("title: {es: Conversaciones, en: Talks}", "title: {es: Conversaciones}")
    )
    assert errors_of(project) == ["content/events/talks.yml:3:8: title.en: missing translation"]


def test_unknown_language(project):
    path = project.root / "content/events/talks.yml"
    path.write_text(path.read_text("utf-8").replace("en: Talks}", "en: Talks, fr: Pourparlers}"))
    assert errors_of(project) == [
        "content/events/talks.yml:3:40: title.fr: language 'fr' is not one of the site's languages (es, en)"
    ]


def test_unknown_references_in_lists_and_markdown(project):
    path = project.root / "content/events/meeting.yml"
    text = path.read_text("utf-8").replace("people: [ana-nunez, bo-lee]", "people: [ana-nunez, nobody]")
    text = text.replace("[[term:border]].\n  en:", "[[term:borde]].\n  en:")
    path.write_text(text)
    assert errors_of(project) == [
        "content/events/meeting.yml:6:7: body.es: in [[term:borde]]: unknown term 'borde'",
        "content/events/meeting.yml:14:21: people[1]: unknown person 'nobody'",
    ]


def test_reference_to_the_wrong_kind(project):
    path = project.root / "content/events/talks.yml"
    path.write_text(path.read_text("utf-8").replace("people: [ana-nunez]", "people: [ministry]"))
    assert errors_of(project) == [
        "content/events/talks.yml:5:10: people[0]: 'ministry' is an organization, expected a person"
    ]


def test_duplicate_id_across_kinds(project):
    write(
        project,
        "content/terms/ministry.yml",
        "term: {es: M, en: M}\ndefinition: {es: D, en: D}\nsources: [{source: report, paragraphs: [1]}]\n",
    )
    assert errors_of(project) == [
        "content/terms/ministry.yml:1:1: id: duplicate id 'ministry': content/organizations/ministry.yml has it too"
    ]


def test_impossible_date_and_unquoted_year(project):
    path = project.root / "content/events/talks.yml"
    path.write_text(path.read_text("utf-8").replace('date: "2024-06"', 'date: "2026-02-30"'))
    path = project.root / "content/agreements/old-pact.yml"
    path.write_text(path.read_text("utf-8").replace('date: "2008"', "date: 2008"))
    assert errors_of(project) == [
        'content/agreements/old-pact.yml:3:7: date: expected a string; write it in quotes: "2008"',
        "content/events/talks.yml:1:7: date: 2026-02-30 is not a date: that month has no day 30",
    ]


def test_unknown_field_and_missing_required(project):
    write(
        project,
        "content/people/bo-lee.yml",
        "name: Bo Lee\ncolour: blue\nsummary: {es: Uno., en: One.}\nsources: [{source: report, paragraphs: [1]}]\n",
    )
    assert errors_of(project) == [
        "content/people/bo-lee.yml:1:1: country: required field is missing",
        "content/people/bo-lee.yml:2:1: colour: unknown field (expected one of: bio, country, mentioned, name, "
        "name_note, roles, short_name, sort_name, sources, summary)",
    ]


def test_citation_checks(project):
    path = project.root / "content/people/ana-nunez.yml"
    text = path.read_text("utf-8").replace("quote: We will work together on the border.", "quote: We will work apart.")
    text = text.replace("sources: [{source: report, paragraphs: [1]}]", "sources: [{source: report, paragraphs: [9]}]")
    path.write_text(text)
    assert errors_of(project) == [
        "content/people/ana-nunez.yml:9:45: roles[0].sources[0].paragraphs[0]: paragraph 9 does not exist: 'report' has 3",
        "content/people/ana-nunez.yml:14:46: sources[0].quote: quote is not verbatim in paragraph(s) 2 of 'report'",
    ]


def test_replaces_cycle(project):
    path = project.root / "content/agreements/old-pact.yml"
    path.write_text(path.read_text("utf-8") + "replaces: [new-pact]\n")
    assert errors_of(project) == [
        "content/agreements/new-pact.yml:5:11: replaces: 'replaces' makes a cycle through 'old-pact'",
        "content/agreements/old-pact.yml:7:11: replaces: 'replaces' makes a cycle through 'new-pact'",
    ]


def test_refused_link_scheme_and_raw_html(project):
    path = project.root / "content/people/ana-nunez.yml"
    path.write_text(path.read_text("utf-8").replace("[[person:bo-lee|Lee]].", "[Lee](javascript:alert(1)) <b>x</b>."))
    assert errors_of(project) == [
        "content/people/ana-nunez.yml:12:7: bio.en: link 'javascript:alert(1)' is refused: "
        "only http(s), mailto and site-relative links are allowed"
    ]


def test_bad_file_names_and_folders(project):
    write(project, "content/people/Bo Lee.yml", "name: x\n")
    write(project, "content/people/notes.yaml", "name: x\n")
    write(project, "content/persons/x.yml", "name: x\n")
    write(project, "content/people/.hidden.yml", "ignored: true\n")
    # What editors leave beside an entry is not content: a backup, an Emacs auto-save file (there from
    # the first unsaved change until the save), a vim swap file.
    write(project, "content/people/ana-nunez.yml~", "name: [\n")
    write(project, "content/people/#ana-nunez.yml#", "name: [\n")
    write(project, "content/people/.ana-nunez.yml.swp", "name: [\n")
    assert errors_of(project) == [
        "content/people/Bo Lee.yml:1:1: (file): file name must be the entry's id: lowercase ASCII letters, digits and single '-', then .yml",
        "content/people/notes.yaml:1:1: (file): entry files end in .yml",
        "content/persons:1:1: (file): unexpected folder in content/ (expected site.yml, home.yml and the folders agreements, events, "
        "organizations, people, sources, terms)",
    ]


def test_all_errors_reported_together_and_site_left_untouched(project):
    build(project)
    before = tree_digest(project.output)
    write(project, "content/events/talks.yml", "date: [\n")
    write(project, "content/people/bo-lee.yml", "name: 1\n")
    # References to the two broken entries are not reported again: their own errors say it all.
    assert errors_of(project) == [
        "content/events/talks.yml:2:1: (yaml): YAML syntax error: expected the node content, but found '<stream end>'",
        "content/people/bo-lee.yml:1:1: country: required field is missing",
        "content/people/bo-lee.yml:1:1: sources: required field is missing",
        "content/people/bo-lee.yml:1:1: summary: required field is missing",
        "content/people/bo-lee.yml:1:7: name: expected a string",
    ]
    assert tree_digest(project.output) == before


def test_missing_ui_string_names_key_and_language(project, tmp_path):
    import shutil

    layouts = tmp_path / "layouts"
    shutil.copytree(project.layouts, layouts)
    table = layouts / "strings" / "en.yml"
    table.write_text(table.read_text("utf-8").replace("nav.people: People\n", ""))
    from dataclasses import replace

    found = errors_of(replace(project, layouts=layouts))
    assert found == [f"{table.as_posix()}:1:1: nav.people: missing in language 'en' (present in es)"]


def test_quotes_are_verbatim_and_translated_where_they_must_be(project):
    path = project.root / "content/home.yml"
    text = path.read_text("utf-8")
    text = text.replace("[[quote:We will work together on the border.]]", "[[quote:We will work together|Juntos.]]")
    text = text.replace(
        "[[quote:We will work together on the border.|", "[[quote:We will work together on the border!|"
    )
    text = text.replace("previstas para junio de 2024.", "previstas, [[quote:The talks are planned]].")
    path.write_text(text, "utf-8")
    assert errors_of(project) == [
        "content/home.yml:8:11: sections[0].body.es: in [[quote:We will work together on the border!]]: "
        "the words are not verbatim in the paragraphs cited (report)",
        "content/home.yml:10:11: sections[0].body.en: in [[quote:We will work together]]: "
        "a quote in its own language ('en') takes no translation",
        "content/home.yml:15:11: sections[1].body.es: in [[quote:The talks are planned]]: "
        "a quote in a 'es' text needs its translation: [[quote:original|translation]]",
    ]


def test_a_home_section_quotes_only_its_own_sources(project):
    path = project.root / "content/home.yml"
    text = path.read_text("utf-8").replace("junio de 2024.", "junio de 2024. [[quote:agreed to hold talks|acordaron]]")
    path.write_text(text, "utf-8")
    assert errors_of(project) == [
        "content/home.yml:15:11: sections[1].body.es: in [[quote:agreed to hold talks]]: "
        "the words are not verbatim in the paragraphs cited (report)"
    ]


def test_home_page_is_checked_like_an_entry(project):
    path = project.root / "content/home.yml"
    text = path.read_text("utf-8").replace("[[person:ana-nunez]] said", "[[person:ana]] said")
    text = text.replace("paragraphs: [3]", "paragraphs: [9]").replace("lede:", "lead:")
    path.write_text(text, "utf-8")
    assert errors_of(project) == [
        "content/home.yml:1:1: lede: required field is missing",
        "content/home.yml:2:1: lead: unknown field (expected one of: lede, sections, title)",
    ]
    path.write_text(text.replace("lead:", "lede:"), "utf-8")
    assert errors_of(project) == [
        "content/home.yml:10:11: sections[0].body.en: in [[person:ana]]: unknown person 'ana'",
        "content/home.yml:17:45: sections[1].sources[0].paragraphs[0]: paragraph 9 does not exist: 'report' has 3",
    ]
