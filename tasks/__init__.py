"""Dramatiq actors only (one module per domain) + broker selection. ``dramatiq tasks`` runs them."""

from . import broker as broker
from . import containers as containers
from . import context as context
from . import images as images
