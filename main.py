"""Berth: wiring only — settings → services → auth.setup → pages.register → ui.run."""

from __future__ import annotations

import argparse
import logging
import os

from nicegui import app, background_tasks, ui
from nicegui.storage import Storage

from components import socket_packets
from core.memory import freeze_startup_objects, keep_returning_free_memory, return_big_buffers
from core.settings import Settings, SettingsError
from core.storage.database import DatabaseUnavailable
from system import create

TAB_STORAGE_SECONDS = 3600.0


def parse_arguments(settings: Settings) -> Settings:
    parser = argparse.ArgumentParser(description='Berth — a web panel for a shared Docker host')
    parser.add_argument('--host', default=settings.host, help='address to listen on (BERTH_HOST)')
    parser.add_argument('--port', type=int, default=settings.port, help='port to listen on (BERTH_PORT)')
    arguments, _ = parser.parse_known_args()
    return settings.model_copy(update={'host': arguments.host, 'port': arguments.port})


def session_cookie(settings: Settings) -> dict[str, object]:
    """HttpOnly (Starlette's default), SameSite=Lax, Secure when the public URL is https."""
    secure = bool(settings.public_url and settings.public_url.startswith('https://'))
    return {'same_site': 'lax', 'https_only': secure, 'max_age': settings.session_max_hours * 3600}


if __name__ in {'__main__', '__mp_main__'}:
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    return_big_buffers()
    try:
        settings = Settings.from_environment()
    except SettingsError as error:  # a sentence naming the variable, not a traceback
        raise SystemExit(str(error)) from None
    if not os.environ.get('NICEGUI_USER_SIMULATION'):
        settings = parse_arguments(settings)
        if not os.environ.get('NICEGUI_STORAGE_PATH'):  # sessions live with the rest of the panel's data
            Storage.path = (settings.data_dir / 'nicegui').resolve()
    try:
        services = create(settings)
    except DatabaseUnavailable as error:  # a sentence, not a traceback
        raise SystemExit(str(error)) from None
    # X-Forwarded-For/-Proto only from BERTH_TRUSTED_PROXIES: uvicorn alone would believe any local process
    proxies = settings.trusted_proxy_list
    socket_packets.install()
    if not os.environ.get('NICEGUI_USER_SIMULATION'):  # tests run main.py once per test, in one process
        app.on_startup(freeze_startup_objects)
        app.on_startup(lambda: background_tasks.create(keep_returning_free_memory(), name='return free memory'))
    # NiceGUI keeps each browser tab's (in-memory) tab storage for 30 days after the tab went, a few hundred bytes a
    # tab opened; Berth stores nothing there, so an hour (a reload still finds it) is plenty
    app.storage.max_tab_storage_age = TAB_STORAGE_SECONDS
    ui.run(
        host=settings.host,
        port=settings.port,
        title='Berth',
        dark=None,
        reload=False,
        show=False,
        storage_secret=settings.resolve_storage_secret(),
        favicon='⚓',
        show_welcome_message=True,
        reconnect_timeout=5.0,
        session_middleware_kwargs=session_cookie(settings),
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        # each tab keeps its last messages to replay after a reconnect; log and terminal batches are up to
        # hundreds of KB each, so 1 000 (NiceGUI's default) could hold tens of MB per tab. Fewer: a long
        # disconnect reloads the page instead.
        message_history_length=100,
    )
