"""The strict YAML reader: 1.2 scalars, positions, and refusals with exact places."""

from explainer.yamlfile import parse_yaml, read_yaml


def errors(text: str) -> list[str]:
    document, found = parse_yaml(text, "f.yml")
    assert document is None
    return [str(e) for e in found]


def test_dates_and_yaml11_words_stay_strings():
    document, found = parse_yaml("a: 2026-01-15\nb: no\nc: on\nd: 1:20\ne: true\nf: ~\ng: 7\n", "f.yml")
    assert found == []
    assert document.data == {"a": "2026-01-15", "b": "no", "c": "on", "d": "1:20", "e": True, "f": None, "g": 7}


def test_positions_are_one_based_line_and_column():
    document, _ = parse_yaml("title:\n  es: Hola\n  en: Hello\nlist: [a, b]\n", "f.yml")
    assert document.position(("title", "en")) == (3, 7)
    assert document.position(("list", 1)) == (4, 11)
    assert document.position(("title", "en"), key=True) == (3, 3)
    assert document.position(("missing", "deeper")) == (1, 1)


def test_duplicate_key_names_both_lines():
    assert errors("a: 1\nb: 2\na: 3\n") == ["f.yml:3:1: a: duplicate key (first at line 1)"]


def test_duplicate_nested_key():
    assert errors("title:\n  es: a\n  es: b\n") == ["f.yml:3:3: title.es: duplicate key (first at line 2)"]


def test_syntax_error_keeps_pyyaml_position():
    assert errors("a: [1, 2\nb: 3\n") == ["f.yml:2:2: (yaml): YAML syntax error: expected ',' or ']', but got ':'"]


def test_tab_indentation():
    assert errors("a:\n\tb: 1\n") == [
        "f.yml:2:1: (yaml): YAML syntax error: found character '\\t' that cannot start any token"
    ]


def test_aliases_are_refused():
    assert errors("a: &x [1]\nb: *x\n") == ["f.yml:2:4: (yaml): anchors and aliases are not allowed in content"]


def test_python_tags_are_refused():
    assert errors("a: !!python/object/apply:os.system [ls]\n") == [
        "f.yml:1:4: a: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
    ]


def test_deep_nesting_is_refused():
    text = "a: " + "[" * 100 + "]" * 100 + "\n"
    assert errors(text) == ["f.yml:1:35: (yaml): nested deeper than 32 levels"]


def test_empty_and_multiple_documents():
    assert errors("") == ["f.yml:1:1: (file): file is empty"]
    assert errors("# only a comment\n") == ["f.yml:1:1: (file): file is empty"]
    assert errors("a: 1\n---\nb: 2\n")[0].startswith(
        "f.yml:2:1: (yaml): YAML syntax error: expected a single document in the stream, but found another document"
    )


def test_escapes_may_not_make_what_a_file_may_not_hold():
    # A control character would reach the pages (the validator refuses it) and every list built from names.
    assert errors('title:\n  es: "Marco\\x1eRubio"\n  en: "ok\\u0000"\n') == [
        "f.yml:2:7: title.es: escape makes U+001E, which a text may not hold",
        "f.yml:3:7: title.en: escape makes U+0000, which a text may not hold",
    ]
    document, found = parse_yaml("a: \"tab\\tand line\\nbreak \\u00e9\"\nb: '\\x1e'\n", "f.yml")
    assert found == []
    assert document.data == {"a": "tab\tand line\nbreak é", "b": "\\x1e"}


def test_bytes_checks(tmp_path):
    cases = {
        b"\xef\xbb\xbfa: 1\n": "f.yml:1:1: (file): file starts with a byte-order mark; save it as UTF-8 without BOM",
        b"a: 1\nb: \xff\xfe\n": "f.yml:2:4: (file): file is not valid UTF-8 text",
        b"a: \x7f\n": "f.yml:1:4: (file): control character U+007F is not allowed",
        "a: \u009f\n".encode(): "f.yml:1:4: (file): control character U+009F is not allowed",
        "a: \ufffe\n".encode(): "f.yml:1:4: (file): character U+FFFE is not allowed",
        b"a: 1\x00\n": "f.yml:1:5: (file): control character U+0000 is not allowed",
        b"   \n\n": "f.yml:1:1: (file): file is empty",
    }
    for raw, expected in cases.items():
        path = tmp_path / "f.yml"
        path.write_bytes(raw)
        document, found = read_yaml(path, "f.yml")
        assert document is None
        assert [str(e) for e in found] == [expected]


def test_libyaml_and_the_pure_python_loader_give_the_same_documents(monkeypatch):
    # libyaml parses files that are fine; positions and values must be exactly the pure-Python ones.
    from pathlib import Path

    from explainer import yamlfile

    assert yamlfile.CParser is not None, "PyYAML without libyaml: every build would be ten times slower to parse"
    repo = Path(__file__).resolve().parent.parent
    files = sorted([*(repo / "content").rglob("*.yml"), *(repo / "layouts/strings").glob("*.yml")])
    fast = {path: yamlfile.parse_bytes(path.read_bytes(), "x") for path in files}
    assert all(yamlfile._parse_fast(path.read_text("utf-8")) is not None for path in files)
    monkeypatch.setattr(yamlfile, "CParser", None)
    for path in files:
        document, errors = yamlfile.parse_bytes(path.read_bytes(), "x")
        assert errors == [] and fast[path][1] == []
        assert document.data == fast[path][0].data
        assert document.positions == fast[path][0].positions
        assert document.key_positions == fast[path][0].key_positions
