"""When the database cannot be reached (a restart, a full disk): a page that cannot be built says so in a sentence
(anything else gets NiceGUI's own error page), and an action that could not write says so in a notification."""

from __future__ import annotations

import contextlib

from nicegui import app, ui
from nicegui.error import error_content

from core.storage.errors import DatabaseUnreachable

DATABASE_DOWN = 'Berth cannot reach its database right now, so this page cannot be shown. Reload it in a moment.'
NOT_SAVED = 'Berth cannot write to its database right now, so this was not saved. Try again in a moment.'


def page_error(exception: Exception) -> None:
    if isinstance(exception, DatabaseUnreachable):
        with ui.column().classes('w-full items-center q-pa-xl'):
            ui.label(DATABASE_DOWN).classes('text-h6').props('role=alert')
            ui.label(f'({exception})').classes('text-grey-7')
        return
    error_content(500, exception)


def action_error(exception: Exception) -> None:
    """An event handler's exception (NiceGUI logs it): the person who acted is told when the database was the cause.
    Handlers that are coroutines run in their page's context; elsewhere there is no page to tell."""
    if isinstance(exception, DatabaseUnreachable):
        with contextlib.suppress(RuntimeError):  # no page context
            ui.notify(f'{NOT_SAVED} ({exception})', type='negative', multi_line=True)


def register() -> None:
    app.on_page_exception(page_error)
    app.on_exception(action_error)
