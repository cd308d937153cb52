"""The "update available" badge of a table row: its cell data (accessible name, tooltip) and its Vue template.

A row dict carries ``update`` (None, or ``{'label': …, 'tooltip': …}``); the template shows the badge only then. Text
goes through Vue interpolation only (references come from the engine).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.updates.results import UpdateInfo

# inside a q-td whose slot has ``props``; keyboard users reach it (tabindex) and hear its name
BADGE = (
    '<q-badge v-if="props.row.update" color="orange-8" class="q-ml-xs cursor-pointer" role="note" tabindex="0" '
    ':aria-label="props.row.update.label" label="update">'
    '<q-tooltip>{{ props.row.update.tooltip }}</q-tooltip></q-badge>'
)


def badge_cell(info: UpdateInfo | None) -> dict[str, Any] | None:
    """The row's ``update`` field: a badge only when an update is known to be available."""
    if info is None or not info.available:
        return None
    checked = datetime.fromtimestamp(info.checked_at, UTC).strftime('%Y-%m-%d %H:%M UTC')
    return {
        'label': f'Update available for {info.reference}',
        'tooltip': f'{info.reference}: the registry has {info.remote_digest} (checked {checked})',
        'reference': info.reference,
        'remote_digest': info.remote_digest,
        'checked_at': info.checked_at,
    }
