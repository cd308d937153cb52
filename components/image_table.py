"""ImageTable: the live images table with per-row actions (accessible names are the verbs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from nicegui import ui

from components.links import js_image_href
from core.state.images import ImageRow, format_created, format_size

from .table_cells import RowAction, action_buttons_cell
from .update_badge import BADGE

COLUMNS: list[dict[str, Any]] = [
    {'name': 'tags', 'label': 'Repository:tag', 'field': 'title', 'sortable': True, 'align': 'left'},
    {'name': 'id', 'label': 'Id', 'field': 'short_id', 'align': 'left'},
    {'name': 'size', 'label': 'Size', 'field': 'size_bytes', 'sortable': True, 'align': 'right'},
    {'name': 'created', 'label': 'Created', 'field': 'created', 'sortable': True, 'align': 'left'},
    {'name': 'containers', 'label': 'Containers', 'field': 'containers', 'sortable': True, 'align': 'right'},
    {'name': 'dangling', 'label': 'Dangling', 'field': 'dangling', 'sortable': True, 'align': 'left'},
    {'name': 'actions', 'label': 'Actions', 'field': 'id', 'align': 'right'},
]
ROW_ACTIONS: list[RowAction] = [
    ('run', 'Run', 'rocket_launch', 'true'),
    ('tag', 'Tag', 'sell', 'true'),
    ('remove', 'Remove', 'delete', 'true'),
]

# Vue interpolation only: tags, ids and sizes are text, never HTML
TAGS_CELL = (
    f'<q-td :props="props"><a :href="{js_image_href()}" class="text-primary">'
    '<div v-for="tag in props.row.tags" :key="tag">{{ tag }}</div>'
    f'<div v-if="!props.row.tags.length" class="text-grey">&lt;none&gt;</div></a>{BADGE}</q-td>'
)
ID_CELL = '<q-td :props="props" class="font-mono">{{ props.row.short_id }}</q-td>'
SIZE_CELL = '<q-td :props="props">{{ props.row.size }}</q-td>'
DANGLING_CELL = '<q-td :props="props"><q-badge v-if="props.row.dangling" color="warning" label="dangling" /></q-td>'


class ImageTable(ui.table):
    """A Quasar table of images; the filter matches any tag or the id."""

    def __init__(self, on_action: Callable[[str, str], Awaitable[None]] | None) -> None:
        columns = COLUMNS if on_action is not None else COLUMNS[:-1]
        super().__init__(columns=columns, rows=[], row_key='id', pagination={'rowsPerPage': 50, 'sortBy': 'tags'})
        self.props('flat bordered dense wrap-cells binary-state-sort')
        self.add_slot('body-cell-tags', TAGS_CELL)
        self.add_slot('body-cell-id', ID_CELL)
        self.add_slot('body-cell-size', SIZE_CELL)
        self.add_slot('body-cell-dangling', DANGLING_CELL)
        if on_action is not None:
            self.add_slot('body-cell-actions', action_buttons_cell(ROW_ACTIONS))
            self.on('row_action', lambda event: on_action(event.args['action'], event.args['id']))

    def show(
        self,
        images: Iterable[ImageRow],
        containers: dict[str, int],
        updates: Callable[[ImageRow], dict[str, Any] | None] = lambda image: None,
    ) -> None:
        """The rows; ``updates`` gives an image's "update available" badge (core/updates), or None."""
        self.rows = [row_dict(image, containers.get(image.id, 0), updates(image)) for image in images]


def row_dict(image: ImageRow, containers: int, update: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        'id': image.id,
        'endpoint': image.endpoint,
        'short_id': image.short_id,
        'tags': image.tags,
        'title': ' '.join(image.tags) or image.id,
        'size': format_size(image.size),
        'size_bytes': image.size,
        'created': format_created(image.created),
        'containers': containers,
        'dangling': image.dangling,
        'update': update,
    }
