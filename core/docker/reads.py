"""The reads a page needs beyond the live state (inspect, history, disk usage, networks, engine facts), off the loop.

Pages never call Docker: they await these. Each runs the SDK call in a thread and turns the daemon's 404 into
:class:`Gone`; any other failure (engine away, timeout) is raised as it comes, for the page to put in a sentence
with :func:`core.docker.client.describe_error`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import docker
import docker.errors

from core.docker.client import describe_error
from core.docker.disk_usage import DiskUsageCache
from core.docker.engine_facts import EngineFacts
from core.permissions import LOCAL_ENDPOINT
from core.protection import Protection

T = TypeVar('T')
FACTS_SECONDS = 60.0  # engine facts (version, kernel, runtimes...) change with an engine upgrade at most


class Gone(LookupError):
    """The container, image or volume no longer exists."""


class EngineReads:
    def __init__(self, client: Callable[[], docker.DockerClient], endpoint: str = LOCAL_ENDPOINT) -> None:
        self.client = client  # the panel's shared client for this endpoint
        self.endpoint = endpoint
        self.disk_usage_cache = DiskUsageCache(self.disk_usage)  # one per endpoint, shared by every page
        self._facts: tuple[float, EngineFacts] | None = None
        self._facts_lock = asyncio.Lock()

    async def _run(self, call: Callable[[docker.APIClient], T]) -> T:
        def read() -> T:
            try:
                return call(self.client().api)
            except docker.errors.NotFound as error:
                raise Gone(describe_error(error)) from None

        return await asyncio.to_thread(read)

    async def container(self, container_id: str) -> dict[str, Any]:
        """The container's inspect data."""
        return await self._run(lambda api: api.inspect_container(container_id))

    async def image(self, image_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The image's inspect data and its layer history."""
        return await self._run(lambda api: (api.inspect_image(image_id), api.history(image_id)))

    async def disk_usage(self) -> dict[str, Any]:
        """``GET /system/df``: slow on a big host, ask only when the answer is needed."""
        return await self._run(lambda api: api.df() or {})

    async def recent_disk_usage(self, *, fresh: bool = False) -> dict[str, Any]:
        """:meth:`disk_usage`, reused for a few seconds across pages and never asked twice at once
        (:class:`core.docker.disk_usage.DiskUsageCache`); ``fresh`` asks again now."""
        return await self.disk_usage_cache.get(fresh=fresh)

    async def volume(self, name: str) -> dict[str, Any]:
        """The volume's inspect data."""
        return await self._run(lambda api: api.inspect_volume(name))

    async def network(self, network_id: str) -> dict[str, Any]:
        """The network's inspect data (its ``Containers`` are the running ones, with their addresses)."""
        return await self._run(lambda api: api.inspect_network(network_id))

    async def network_endpoints(self, network_name: str, container_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Container id → its settings on the network (addresses, MAC, aliases), for the containers listed: one
        inspect each, so only for a network's own page. A container that went meanwhile is left out."""

        def read(api: docker.APIClient) -> dict[str, dict[str, Any]]:
            found = {}
            for container_id in container_ids:
                try:
                    networks = (api.inspect_container(container_id).get('NetworkSettings') or {}).get('Networks') or {}
                except docker.errors.NotFound:
                    continue
                if network_name in networks:
                    found[container_id] = networks[network_name] or {}
            return found

        return await self._run(read)

    async def engine_facts(self) -> EngineFacts:
        """``GET /info`` and ``GET /version`` of this endpoint, kept for a minute (pages opening together share one
        read)."""
        async with self._facts_lock:
            if self._facts is None or time.monotonic() - self._facts[0] > FACTS_SECONDS:
                facts = await self._run(lambda api: EngineFacts.from_api(api.info(), api.version()))
                self._facts = (time.monotonic(), facts)
            return self._facts[1]

    async def network_names(self) -> list[str]:
        return await self._run(lambda api: sorted(str(network['Name']) for network in api.networks() or []))

    async def protected_volumes(self, protection: Protection) -> set[str]:
        """The volumes only admins may reach (labelled, or mounted by one of Berth's own containers)."""
        return await self._run(protection.protected_volumes)
