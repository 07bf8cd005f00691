"""The pages to index by bundle (explainer/search.py): an edit changes a few pages' digests in the last
build's grouping rather than grouping every page again, and must get what grouping them all gives."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explainer.search
from explainer.search import resharded, shard_count, sharded

EXAMPLES = int(os.environ.get("EXPLAINER_FUZZ", "1000"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

files = st.lists(
    st.tuples(st.sampled_from(["es/cronologia", "en/timeline", "es/personas", "en", ""]), st.text("abcñ-", max_size=6)),
    min_size=1,
    max_size=60,
    unique=True,
).map(lambda pairs: [f"{folder}/{name}/index.html".lstrip("/") for folder, name in pairs])
digests = st.sampled_from(["a1", "b2", "c3", "d4"])


@SETTINGS
@given(files, st.data())
def test_a_few_pages_digests_changed_in_the_last_grouping_are_what_grouping_them_all_gives(names, data):
    before = {name: data.draw(digests) for name in names}
    changes = {name: data.draw(digests) for name in data.draw(st.lists(st.sampled_from(names), max_size=5))}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(explainer.search, "SHARD_PAGES", 4)  # many bundles of few pages
        assert shard_count(len(before)) == len(sharded(before).shards)
        again = resharded(sharded(before), changes)
        expected = sharded({**before, **changes})
    assert again.shards == expected.shards
    assert [list(pages) for pages in again.shards.values()] == [list(pages) for pages in expected.shards.values()]
    assert again.stamp == expected.stamp


def test_a_page_the_last_grouping_lacks_is_refused():
    # Only pages the last build indexed may change (a new page, or one more bundle, groups them all).
    before = sharded({"es/a/index.html": "a1", "en/a/index.html": "a1"})
    with pytest.raises(KeyError):
        resharded(before, {"es/b/index.html": "b2"})
