"""The page shown when building a page failed: a database that cannot be reached (a restart, a full disk) gets a
sentence saying so and what to do; anything else NiceGUI's own error page."""

from __future__ import annotations

from nicegui import app, ui
from nicegui.error import error_content

from core.storage.errors import DatabaseUnreachable

DATABASE_DOWN = 'Berth cannot reach its database right now, so this page cannot be shown. Reload it in a moment.'


def page_error(exception: Exception) -> None:
    if isinstance(exception, DatabaseUnreachable):
        with ui.column().classes('w-full items-center q-pa-xl'):
            ui.label(DATABASE_DOWN).classes('text-h6').props('role=alert')
            ui.label(f'({exception})').classes('text-grey-7')
        return
    error_content(500, exception)


def register() -> None:
    app.on_page_exception(page_error)
