"""Quasar table cell templates shared by the tables (row text goes through Vue interpolation only)."""

from __future__ import annotations

# (action, verb, icon, Vue condition for showing the button)
RowAction = tuple[str, str, str, str]


def action_buttons_cell(actions: list[RowAction], *, busy_spinner: bool = False) -> str:
    """A right-aligned cell of icon buttons whose accessible names are the verbs; a click emits ``row_action``.

    With ``busy_spinner`` the clicked row shows a spinner at once (``props.row.busy``) until the server re-renders it.
    """
    busy = ':loading="props.row.busy" :disable="props.row.busy" ' if busy_spinner else ''
    mark_busy = 'props.row.busy = true; ' if busy_spinner else ''
    buttons = ''.join(
        f'<q-btn v-if="{condition}" flat dense round size="sm" icon="{icon}" aria-label="{verb}" title="{verb}" '
        f"{busy}@click.stop=\"() => {{ {mark_busy}$parent.$emit('row_action', "
        f"{{action: '{action}', id: props.row.id}}); }}\" />"
        for action, verb, icon, condition in actions
    )
    return f'<q-td :props="props" class="text-right"><div class="row no-wrap justify-end">{buttons}</div></q-td>'
