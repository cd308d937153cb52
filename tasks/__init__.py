"""Dramatiq actors only (one module per domain), declared on a broker by ``tasks.actors.declare``.

``dramatiq tasks`` imports this package as its broker module: then, and only then, it sets up the standalone worker
(``tasks/worker.py``); the panel imports it to declare the actors on its own broker (``system.build``).
"""

import sys

from . import actors as actors
from . import broker as broker
from . import containers as containers
from . import context as context
from . import environments as environments
from . import images as images
from . import networks as networks
from . import volumes as volumes

if 'dramatiq.cli' in sys.modules:  # this process is a worker started by dramatiq's command line
    from core.settings import Settings, SettingsError

    from .worker import serve

    try:
        settings = Settings.from_environment()
    except SettingsError as error:  # a sentence naming the variable, not a traceback
        raise SystemExit(str(error)) from None
    serve(settings)
