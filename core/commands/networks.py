"""Flow 2 for networks: create (bridge only), remove, prune, connect and disconnect a container.

A mixin of `Commands` (core/commands/dispatch.py), like :class:`core.commands.images.ImageCommands`: each command checks
the permission first (a refusal is audited), then what the user asked for (a sentence when it is wrong), then goes
through the one ``dispatch``. The actor (tasks/networks.py) checks the built-in networks and the driver again.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from core.commands.base import CommandBase
from core.commands.network_spec import NetworkSpec, check_ipv4, overlapping, parse_aliases
from core.commands.spec import SpecError
from core.errors import CommandError
from core.jobs.store import Job
from core.permissions import (
    LOCAL_ENDPOINT,
    Forbidden,
    Identity,
    Permission,
    Scope,
    require,
    role_allows,
)
from core.protection import RESERVED_LABEL_PREFIX, Protection
from core.state.containers import ContainerRow, containers_by
from core.state.model import DockerState
from core.state.networks import NetworkRow, find_network, unused_networks

NETWORK_OPERATIONS = ('create', 'remove', 'prune', 'connect', 'disconnect')  # job kinds: network.<operation>
UNUSED = 'unused networks'


class NetworkCommands(CommandBase):
    """The network commands; ``Commands`` provides the state, ``dispatch`` and the audited permission check."""

    state: DockerState
    protection: Protection

    async def create_network(
        self,
        identity: Identity | None,
        name: str,
        *,
        internal: bool = False,
        subnet: str = '',
        gateway: str = '',
        ip_range: str = '',
        attachable: bool = False,
        labels: dict[str, str] | None = None,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Queues the creation of a bridge network (``internal``: no route out); subnet, gateway and IP range are
        checked with a sentence saying what is wrong. Berth's own labels (``berth.*``) need the admin role."""
        spec = NetworkSpec(
            name=name.strip(),
            internal=bool(internal),
            attachable=bool(attachable),
            subnet=subnet.strip(),
            gateway=gateway.strip(),
            ip_range=ip_range.strip(),
            labels=dict(labels or {}),
        )
        identity = self._require(
            identity, Permission.NETWORK_CREATE, 'create networks', 'network.create', spec.name, spec.to_dict()
        )
        try:
            spec.validate()
        except SpecError as error:
            raise CommandError('; '.join(error.errors.values())) from None
        reserved = sorted(key for key in spec.labels if key.lower().startswith(RESERVED_LABEL_PREFIX))
        if reserved and not role_allows(identity.role, Permission.BERTH_INTERNALS):
            refusal = Forbidden(
                f"{identity.username} is an {identity.role}: Berth's own labels ({', '.join(reserved)})"
                ' need the admin role'
            )
            self._refused(identity, 'network.create', spec.name, spec.to_dict(), refusal)
            raise refusal
        existing = [row for row in self.state.networks.values() if row.endpoint == endpoint]
        if any(row.name == spec.name for row in existing):
            raise CommandError(f'a network named {spec.name} already exists')
        if spec.subnet:
            clash = overlapping(
                ipaddress.ip_network(spec.subnet), {row.name: row.subnets for row in existing if row.subnets}
            )
            if clash:
                raise CommandError(clash)
        return await self.dispatch(
            identity,
            permission=Permission.NETWORK_CREATE,
            what='create networks',
            kind='network.create',
            target=spec.name,
            target_name=spec.name,
            params={'spec': spec.to_dict()},
            audit_params=spec.to_dict(),
            arguments=('create', ''),
            scope=Scope.of(spec.labels, endpoint),
        )

    async def remove_network(self, identity: Identity | None, id_or_name: str, endpoint: str = LOCAL_ENDPOINT) -> Job:
        """Removes a network no container is connected to; the engine's own (bridge, host, none) are refused."""
        self._require(identity, Permission.NETWORK_REMOVE, 'remove networks', 'network.remove', id_or_name)
        row = self._network(id_or_name, endpoint)
        if row.built_in:
            raise CommandError(
                f"{row.name} is one of the engine's own networks (bridge, host, none): it cannot be removed"
            )
        connected = self._members(row)
        if connected:
            names = ', '.join(member.name for member in connected)
            raise CommandError(
                f'the network {row.name} still has containers connected ({names}): disconnect them first'
            )
        return await self.dispatch(
            identity,
            permission=Permission.NETWORK_REMOVE,
            what='remove networks',
            kind='network.remove',
            target=row.id,
            target_name=row.name,
            params={},
            arguments=('remove', row.id),
            scope=row.access_scope,
        )

    def network_prune_candidates(self, endpoint: str = LOCAL_ENDPOINT) -> list[NetworkRow]:
        """The preview of a prune: unused networks that are not the engine's own."""
        networks = [row for row in self.state.networks.values() if row.endpoint == endpoint]
        containers = [row for row in self.state.containers.values() if row.endpoint == endpoint]
        return unused_networks(networks, containers_by(containers, 'networks'))

    async def prune_networks(self, identity: Identity | None, names: list[str], endpoint: str = LOCAL_ENDPOINT) -> Job:
        """Removes exactly the networks the user confirmed (names or ids), if each still qualifies now."""
        self._require(
            identity, Permission.NETWORK_PRUNE, 'prune networks', 'network.prune', UNUSED, {'networks': names}
        )
        if not names:
            raise CommandError(f'there are no {UNUSED} to remove')
        candidates = {row.id: row for row in self.network_prune_candidates(endpoint)}
        chosen, gone = [], []
        for name in names:
            row = find_network(self.state.networks.values(), name, endpoint)
            if row is None or row.id not in candidates:
                gone.append(row.name if row else name)
            else:
                chosen.append(row)
        if gone:
            raise CommandError(
                f'the list changed meanwhile ({", ".join(gone)} no longer qualif{"ies" if len(gone) == 1 else "y"}): '
                'look again and confirm'
            )
        return await self.dispatch(
            identity,
            permission=Permission.NETWORK_PRUNE,
            what='prune networks',
            kind='network.prune',
            target='unused',
            target_name=UNUSED,
            params={'networks': {row.id: row.name for row in chosen}},
            audit_params={'networks': [row.name for row in chosen]},
            arguments=('prune', ''),
            scope=Scope(endpoint=endpoint),
        )

    async def connect_network(
        self,
        identity: Identity | None,
        network: str,
        container: str,
        *,
        aliases: str | list[str] = '',
        ipv4: str = '',
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Connects a container to a bridge network, with optional aliases and a fixed IPv4 address inside the
        network's subnet. Needs ``network.connect`` on the network and on the container."""
        what = 'connect containers to networks'
        self._require(identity, Permission.NETWORK_CONNECT, what, 'network.connect', f'{container} to {network}')
        row, member = self._network(network, endpoint), self._container(container, endpoint)
        target_name = f'{member.name} to {row.name}'
        if row.driver != 'bridge':
            raise CommandError(
                f'{row.name} is a {row.driver or "non-bridge"} network: containers can only be connected to bridge '
                'networks here'
            )
        if row.name in member.networks:
            raise CommandError(f'{member.name} is already connected to {row.name}')
        try:
            alias_list = parse_aliases(aliases)
            address = check_ipv4(ipv4, row.subnets, row.gateways) if ipv4.strip() else ''
        except ValueError as error:
            raise CommandError(str(error)) from None
        if address and row.built_in:
            raise CommandError(
                f'the default {row.name} network does not take a fixed IPv4 address: use a network you created'
            )
        params = {'container_id': member.id, 'container': member.name, 'aliases': alias_list, 'ipv4': address}
        self._require_container(identity, member, what, 'network.connect', target_name, params)
        return await self.dispatch(
            identity,
            permission=Permission.NETWORK_CONNECT,
            what=what,
            kind='network.connect',
            target=row.id,
            target_name=target_name,
            params=params,
            arguments=('connect', row.id),
            scope=row.access_scope,
        )

    async def disconnect_network(
        self,
        identity: Identity | None,
        network: str,
        container: str,
        *,
        force: bool = False,
        endpoint: str = LOCAL_ENDPOINT,
    ) -> Job:
        """Disconnects a container from a network (``force``: even if the engine thinks it is still in use)."""
        what = 'disconnect containers from networks'
        self._require(identity, Permission.NETWORK_CONNECT, what, 'network.disconnect', f'{container} from {network}')
        row, member = self._network(network, endpoint), self._container(container, endpoint)
        target_name = f'{member.name} from {row.name}'
        if row.name in ('host', 'none'):
            raise CommandError(f'containers cannot be disconnected from the {row.name} network: recreate them instead')
        if row.name not in member.networks:
            raise CommandError(f'{member.name} is not connected to {row.name}')
        params = {'container_id': member.id, 'container': member.name, 'force': bool(force)}
        self._require_container(identity, member, what, 'network.disconnect', target_name, params)
        return await self.dispatch(
            identity,
            permission=Permission.NETWORK_CONNECT,
            what=what,
            kind='network.disconnect',
            target=row.id,
            target_name=target_name,
            params=params,
            arguments=('disconnect', row.id),
            scope=row.access_scope,
        )

    def _require_container(
        self, identity: Identity | None, member: ContainerRow, what: str, kind: str, target: str, params: dict[str, Any]
    ) -> None:
        """The same permission on the container's own scope; Berth's own containers are the admins' alone."""
        permission = Permission.NETWORK_CONNECT
        if self.protection.container_is_protected(member.id, member.labels):
            permission, what = Permission.BERTH_INTERNALS, f'{what} when the container belongs to Berth itself'
        try:
            require(identity, permission, what, member.scope)
        except Forbidden as refusal:
            self._refused(identity, kind, target, params, refusal)
            raise

    def _members(self, row: NetworkRow) -> list[ContainerRow]:
        containers = [member for member in self.state.containers.values() if member.endpoint == row.endpoint]
        return containers_by(containers, 'networks').get(row.name, [])

    def _network(self, id_or_name: str, endpoint: str) -> NetworkRow:
        row = find_network(self.state.networks.values(), id_or_name, endpoint)
        if row is None:
            raise CommandError(f'network {id_or_name} no longer exists')
        return row

    def _container(self, name_or_id: str, endpoint: str) -> ContainerRow:
        row = self.state.find(name_or_id, endpoint)
        if row is None:
            raise CommandError(f'container {name_or_id} no longer exists')
        return row
