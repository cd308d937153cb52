"""Which containers a role may open a terminal in: beyond the operator role, a container whose body only an admin
may create, or one of Berth's own, needs the admin role (the rule: :meth:`core.protection.Protection.terminal_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.docker.client import describe_error

if TYPE_CHECKING:  # the system object is built by system.py, which imports the pages
    from system import Services


@dataclass(kw_only=True, slots=True, frozen=True)
class TerminalBody:
    """What a container is made of, as far as terminals go: its inspect data and the protected volumes it mounts."""

    inspect: dict[str, Any]
    protected_volumes: frozenset[str]

    def refusal(self, services: Services, role: str) -> str:
        """Why ``role`` may not have a terminal in this container ('' when it may); no I/O, so it is cheap enough to ask
        again on every keystroke."""
        return services.protection.terminal_refusal(role, self.inspect, self.protected_volumes)


async def look_up_body(services: Services, container_id: str) -> TerminalBody:
    """Inspects the container, and lists the protected volumes only when it mounts a named volume; off the event loop.

    Raises :class:`core.docker.reads.Gone` for no such container, else what the engine raises."""
    reads = services.container_reads(container_id)  # the container's own endpoint
    inspect = await reads.container(container_id)
    volumes: frozenset[str] = frozenset()
    if any(mount.get('Type') == 'volume' for mount in inspect.get('Mounts') or []):
        volumes = frozenset(await reads.protected_volumes(services.protection))
    return TerminalBody(inspect=inspect, protected_volumes=volumes)


def as_sentence(reason: str, *names: str) -> str:
    """The reason with a capital and a full stop; one that starts with a name (container, user) keeps it as it is."""
    if not any(name and reason.startswith(name) for name in names):
        reason = f'{reason[:1].upper()}{reason[1:]}'
    return f'{reason}.'


async def refusal_for(services: Services, role: str, container_id: str) -> str:
    """Why ``role`` may not have a terminal in the container, as a sentence ('' when it may); a failed look-up is a
    sentence too."""
    try:
        body = await look_up_body(services, container_id)
    except Exception as error:  # gone, or the engine is unreachable: the daemon's message
        return f'Could not look at the container: {describe_error(error)}.'
    reason = body.refusal(services, role)
    return as_sentence(reason, str(body.inspect.get('Name', '')).lstrip('/')) if reason else ''
