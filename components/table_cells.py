"""Quasar table cell templates shared by the tables (row text goes through Vue interpolation only)."""

from __future__ import annotations

# (action, verb, icon, Vue condition for showing the button)
RowAction = tuple[str, str, str, str]

# What Quasar renders for <q-btn flat dense round size="sm">, written out: see action_buttons_cell
BUTTON_CLASSES = (
    'q-btn q-btn-item non-selectable no-outline q-btn--flat q-btn--round q-btn--actionable q-focusable q-hoverable '
    'q-btn--dense'
)
CONTENT_CLASSES = 'q-btn__content text-center col items-center q-anchor--skip justify-center row'
ICON = '<i class="q-icon notranslate material-icons" aria-hidden="true" role="img">{icon}</i>'


def action_buttons_cell(actions: list[RowAction], *, busy_spinner: bool = False) -> str:
    """A right-aligned cell of icon buttons whose accessible names are the verbs; a click emits ``row_action``.

    With ``busy_spinner`` the clicked row shows a spinner at once (``props.row.busy``) until the server re-renders it.

    The buttons are plain ``<button>`` elements dressed in the classes Quasar gives a flat round dense button, not one
    QBtn component each: a table update re-renders every row's cells, and with a QBtn per action (a few hundred on a
    page of 50 containers) each update took about 100 ms of a browser's main thread here, so at five container changes
    a second the rows fell seconds behind the engine (bench/load.py). A busy row has a spinner, the only component.
    """
    disable = ':disabled="props.row.busy" :class="{disabled: props.row.busy}" ' if busy_spinner else ''
    mark_busy = 'props.row.busy = true; ' if busy_spinner else ''
    buttons = ''.join(
        f'<button v-if="{condition}" type="button" class="{BUTTON_CLASSES}" style="font-size: 10px" '
        f'aria-label="{verb}" title="{verb}" {disable}'
        f"@click.stop=\"() => {{ {mark_busy}$parent.$emit('row_action', "
        f"{{action: '{action}', id: props.row.id}}); }}\">"
        f'<span class="q-focus-helper"></span>'
        f'<span class="{CONTENT_CLASSES}">{_icon(icon, busy_spinner)}</span></button>'
        for action, verb, icon, condition in actions
    )
    return f'<q-td :props="props" class="text-right"><div class="row no-wrap justify-end">{buttons}</div></q-td>'


def _icon(icon: str, busy_spinner: bool) -> str:
    if not busy_spinner:
        return ICON.format(icon=icon)
    return '<q-spinner v-if="props.row.busy" size="1.715em" />' + ICON.format(icon=icon).replace('<i ', '<i v-else ', 1)
