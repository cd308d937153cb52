"""The row action cell: plain buttons with accessible names, no Quasar component per button (each table update
re-renders every row's cells; a QBtn per action made that cost ~100 ms a page in a browser)."""

from __future__ import annotations

import re

from components.container_table import ROW_ACTIONS
from components.table_cells import action_buttons_cell


def test_each_action_is_a_plain_button_named_by_its_verb() -> None:
    cell = action_buttons_cell(ROW_ACTIONS, busy_spinner=True)

    assert '<q-btn' not in cell  # a component per button is what made every update of the table slow
    buttons = re.findall(r'<button .*?</button>', cell)
    assert len(buttons) == len(ROW_ACTIONS)
    for button, (action, verb, _, condition) in zip(buttons, ROW_ACTIONS, strict=True):
        assert f'aria-label="{verb}"' in button
        assert f'title="{verb}"' in button
        assert f'v-if="{condition}"' in button
        assert 'type="button"' in button
        assert f"action: '{action}'" in button


def test_a_busy_row_shows_a_spinner_and_its_buttons_are_disabled() -> None:
    busy = action_buttons_cell(ROW_ACTIONS, busy_spinner=True)
    plain = action_buttons_cell(ROW_ACTIONS)

    assert busy.count('<q-spinner v-if="props.row.busy"') == len(ROW_ACTIONS)
    assert busy.count(':disabled="props.row.busy"') == len(ROW_ACTIONS)
    assert 'props.row.busy = true' in busy  # the click marks the row busy at once
    assert 'q-spinner' not in plain
    assert 'props.row.busy' not in plain
