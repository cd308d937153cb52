"""The containers table's filter matches a row on one lower-case text of its searched cells, made when the row is:
the same rows as looking into each cell at every render (which cost each tab every cell of every container)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from components.container_table import SEARCHED_FIELDS, haystack

CELL = st.one_of(st.text(max_size=8), st.lists(st.text(max_size=5), max_size=3), st.none(), st.booleans())
ROWS = st.fixed_dictionaries({key: CELL for key in SEARCHED_FIELDS})
TYPED = st.text(min_size=1, max_size=4).filter(lambda text: '\0' not in text)  # what a person types in the filter


def shown_before(cells: dict[str, Any], text: str) -> bool:
    return any(text in str(cells[key]).lower() for key in SEARCHED_FIELDS)


@settings(max_examples=400, deadline=None)
@given(ROWS, TYPED)
def test_a_row_matches_exactly_when_one_of_its_searched_cells_holds_the_text(cells: dict[str, Any], typed: str) -> None:
    text = typed.lower()
    assert (text in haystack(cells)) == shown_before(cells, text)


def test_a_match_never_spans_two_cells() -> None:
    cells = dict.fromkeys(SEARCHED_FIELDS, '')
    cells['name'], cells['image'] = 'web', 'nginx'
    assert 'nginx' in haystack(cells)
    assert 'webnginx' not in haystack(cells)
    assert 'bng' not in haystack(cells)
