"""First use of an acronym on a page: <abbr title> in the page's language, linked to its entry."""

from explainer.abbr import Acronym, mark_acronyms

ACRONYMS = (
    Acronym("EE. UU.", "Estados Unidos", None),
    Acronym("SRE", "Secretaría de Relaciones Exteriores", "/es/organizaciones/sre/"),
)


def page(main: str) -> str:
    return f"<html><head><title>SRE</title></head><body><nav>SRE</nav><main>{main}</main><p>SRE</p></body></html>"


def test_only_the_first_use_in_main_is_marked_and_linked():
    marked = mark_acronyms(page("<p>La SRE habló. La SRE y EE. UU. acordaron.</p>"), ACRONYMS, "/es/")
    assert marked == page(
        '<p>La <a href="/es/organizaciones/sre/"><abbr title="Secretaría de Relaciones Exteriores">SRE</abbr></a>'
        ' habló. La SRE y <abbr title="Estados Unidos">EE. UU.</abbr> acordaron.</p>'
    )


def test_headings_links_and_words_containing_the_letters_are_left_alone():
    html = page('<h1>SRE</h1><p><a href="/x/">SRE</a> SREX xSRE</p><p>y la SRE.</p>')
    marked = mark_acronyms(html, ACRONYMS, "/es/")
    assert marked.count("<abbr") == 1
    assert '<p>y la <a href="/es/organizaciones/sre/"><abbr' in marked
    assert "<h1>SRE</h1>" in marked and "SREX xSRE" in marked


def test_an_entry_does_not_link_to_itself():
    marked = mark_acronyms(page("<p>La SRE.</p>"), ACRONYMS, "/es/organizaciones/sre/")
    assert '<p>La <abbr title="Secretaría de Relaciones Exteriores">SRE</abbr>.</p>' in marked


def test_expansions_are_escaped():
    marked = mark_acronyms(page("<p>XY</p>"), (Acronym("XY", 'a "b" <c>', None),), "/")
    assert '<abbr title="a &quot;b&quot; &lt;c&gt;">XY</abbr>' in marked


def test_letters_in_attributes_after_a_dot_or_in_skipped_elements_are_not_a_use():
    html = page('<p><span title="SRE">x</span> .SRE <q>SRE</q> <code>SRE</code> <svg><text>SRE</text></svg> y SRE</p>')
    marked = mark_acronyms(html, ACRONYMS, "/es/")
    assert marked.count("<abbr") == 1
    assert marked.endswith(
        'y <a href="/es/organizaciones/sre/"><abbr title="Secretaría de Relaciones Exteriores">SRE</abbr></a></p></main><p>SRE</p></body></html>'
    )
    assert '<span title="SRE">x</span> .SRE <q>SRE</q> <code>SRE</code>' in marked


def test_a_use_of_a_longer_acronym_holds_its_letters_whatever_other_acronyms_they_contain():
    acronyms = (Acronym("EE. UU.", "Estados Unidos", None), Acronym("UU.", "Unidades", None))
    marked = mark_acronyms(page("<p>EE. UU. y EE. UU. luego UU.</p>"), acronyms, "/")
    assert marked == page(
        '<p><abbr title="Estados Unidos">EE. UU.</abbr> y EE. UU. luego <abbr title="Unidades">UU.</abbr></p>'
    )
