"""Creating, removing, pruning networks and connecting containers to them, as a worker runs them.

Whatever the message says, the worker checks again what the panel checked: it creates bridge networks only, never
removes the engine's own networks (bridge, host, none), connects containers to bridge networks only, and re-validates
the spec, the aliases and the address against the network as the engine reports it now.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

import docker

from core.commands.network_spec import DRIVER, NetworkSpec, check_ipv4, parse_aliases
from core.commands.spec import SpecError
from core.docker.client import describe_error
from core.docker.endpoints import Endpoint
from core.jobs.store import JobStatus
from core.operations.report import JobReporter
from core.permissions import Permission, role_allows
from core.protection import RESERVED_LABEL_PREFIX
from core.state.networks import BUILT_IN, NetworkRow


class Refused(Exception):
    """What the worker will not do, whatever the message says; the message is a sentence."""


def network_operation(
    endpoint: Endpoint, reporter: JobReporter, operation: str, network_id: str, params: dict[str, Any], role: str
) -> None:
    """The job: one network operation on ``endpoint``; a sentence of what happened, the daemon's words on failure.
    ``role`` is the one the panel verified and signed."""
    try:
        with closing(endpoint.connect()) as client:
            api = client.api
            if operation == 'create':
                reporter.publish(JobStatus.SUCCEEDED, create(api, params.get('spec') or {}, role))
            elif operation == 'remove':
                reporter.publish(JobStatus.SUCCEEDED, remove(api, network_id))
            elif operation == 'prune':
                status, message = prune(
                    api, {str(key): str(value) for key, value in (params.get('networks') or {}).items()}
                )
                reporter.publish(status, message)
            elif operation == 'connect':
                reporter.publish(JobStatus.SUCCEEDED, connect(api, network_id, params))
            elif operation == 'disconnect':
                reporter.publish(JobStatus.SUCCEEDED, disconnect(api, network_id, params))
            else:
                reporter.publish(JobStatus.FAILED, f'unknown network operation {operation!r}')
    except Refused as refusal:
        reporter.publish(JobStatus.FAILED, f'refused: {refusal}')
    except Exception as error:  # in use, not found, address taken: the daemon's own words
        reporter.publish(JobStatus.FAILED, describe_error(error))


def create(api: docker.APIClient, data: dict[str, Any], role: str) -> str:
    if str(data.get('driver', DRIVER)) != DRIVER:
        raise Refused(f'only {DRIVER} networks can be created here')
    try:
        spec = NetworkSpec.from_dict(data)
    except SpecError as error:
        raise Refused('; '.join(error.errors.values())) from None
    reserved = sorted(key for key in spec.labels if key.lower().startswith(RESERVED_LABEL_PREFIX))
    if reserved and not role_allows(role, Permission.BERTH_INTERNALS):
        raise Refused(f"Berth's own labels ({', '.join(reserved)}) need the admin role")
    answer = api.create_network(**spec.create_arguments())
    created = NetworkRow.from_inspect(api.inspect_network(answer['Id']))
    facts = [created.driver, f'subnet {", ".join(created.subnets)}' if created.subnets else '']
    facts += ['internal' if created.internal else '', 'attachable' if created.attachable else '']
    return f'created ({", ".join(fact for fact in facts if fact)})'


def remove(api: docker.APIClient, network_id: str) -> str:
    network = removable(api, network_id)
    api.remove_network(network.id)
    return 'removed'


def prune(api: docker.APIClient, networks: dict[str, str]) -> tuple[str, str]:
    """Removes each confirmed network (id → name) that still qualifies; says which went and which stayed, and why."""
    removed, kept = [], []
    for network_id, name in networks.items():
        try:
            network = removable(api, network_id)
            api.remove_network(network.id)
            removed.append(network.name)
        except docker.errors.NotFound:
            removed.append(name)  # gone already: what the user wanted
        except (Refused, docker.errors.APIError) as error:
            kept.append(f'{name}: {error if isinstance(error, Refused) else describe_error(error)}')
    message = f'removed {len(removed)} network{"s" if len(removed) != 1 else ""}'
    if removed:
        message += f' ({", ".join(removed)})'
    if kept:
        message += f'; kept {len(kept)}: ' + '; '.join(kept)
    return (JobStatus.SUCCEEDED if removed or not kept else JobStatus.FAILED), message


def removable(api: docker.APIClient, network_id: str) -> NetworkRow:
    """The network, if it may go: not one of the engine's own, and no container (in any state) connected to it."""
    data = api.inspect_network(network_id)
    network = NetworkRow.from_inspect(data)
    if built_in(data):
        raise Refused(f"{network.name} is one of the engine's own networks (bridge, host, none): it cannot be removed")
    # by name too: a container created on the network but never started has no network id yet
    connected = {
        str(item['Id']): str((item.get('Names') or ['?'])[0]).lstrip('/')
        for key in (network.id, network.name)
        for item in api.containers(all=True, filters={'network': key}) or []
    }
    if connected:
        names = ', '.join(sorted(connected.values()))
        raise Refused(f'the network {network.name} still has containers connected ({names}): disconnect them first')
    return network


def connect(api: docker.APIClient, network_id: str, params: dict[str, Any]) -> str:
    data = api.inspect_network(network_id)
    network = NetworkRow.from_inspect(data)
    if network.driver != DRIVER:
        raise Refused(f'{network.name} is a {network.driver} network: containers can only be connected to bridge ones')
    try:
        aliases = parse_aliases([str(alias) for alias in params.get('aliases') or []])
        ipv4 = check_ipv4(str(params['ipv4']), network.subnets, network.gateways) if params.get('ipv4') else ''
    except ValueError as error:
        raise Refused(str(error)) from None
    container_id = str(params['container_id'])
    api.connect_container_to_network(container_id, network.id, ipv4_address=ipv4 or None, aliases=aliases or None)
    details = [f'alias{"es" if len(aliases) > 1 else ""} {", ".join(aliases)}' if aliases else '']
    details.append(f'IPv4 {ipv4}' if ipv4 else '')
    shown = ', '.join(detail for detail in details if detail)
    return 'connected' + (f' ({shown})' if shown else '')


def disconnect(api: docker.APIClient, network_id: str, params: dict[str, Any]) -> str:
    data = api.inspect_network(network_id)
    network = NetworkRow.from_inspect(data)
    if network.driver in ('host', 'null'):
        raise Refused(f'containers cannot be disconnected from the {network.name} network')
    container_id = str(params['container_id'])
    api.disconnect_container_from_network(container_id, network.id, force=bool(params.get('force')))
    return 'disconnected'


def built_in(data: dict[str, Any]) -> bool:
    """One of the engine's own networks: by name, by driver (host, null) or as the default bridge."""
    options = data.get('Options') or {}
    return (
        str(data.get('Name') or '') in BUILT_IN
        or str(data.get('Driver') or '') in ('host', 'null')
        or options.get('com.docker.network.bridge.default_bridge') == 'true'
    )
