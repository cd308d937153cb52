"""What a user may ask of a network: a bridge network's closed set of fields, container aliases, a fixed IPv4 address;
each checked with :mod:`ipaddress` and refused with a sentence that says what is wrong.

Only bridge networks can be made from here (``internal`` is a flag of the bridge driver): no field names a driver, so
macvlan, ipvlan or host-reaching networks cannot be asked for by any path.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from docker.types import IPAMConfig, IPAMPool

from core.commands.spec import SpecError
from core.errors import clip
from core.state.networks import BUILT_IN

DRIVER = 'bridge'  # the one driver the panel creates networks with
NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.-]*')
NAME_LIMIT = 64
TEXT_FIELDS = ('name', 'subnet', 'gateway', 'ip_range')
ALIAS = re.compile(r'[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?')
ALIAS_LIMIT = 253  # a DNS name
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(kw_only=True, slots=True)
class NetworkSpec:
    """Everything the "New network" dialog can ask for; the driver is always ``bridge``."""

    name: str
    internal: bool = False  # no route out of the network
    attachable: bool = False
    subnet: str = ''  # '' lets the engine pick one
    gateway: str = ''
    ip_range: str = ''
    labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSpec:
        """Rebuilds a spec from a message; refuses fields that do not exist (a driver among them) and checks it."""
        unknown = set(data) - {item.name for item in fields(cls)}
        if unknown:
            raise SpecError({'spec': f'unknown fields: {clip(", ".join(sorted(unknown)))}'})
        try:
            spec = cls(**data)
        except TypeError as error:
            raise SpecError({'spec': f'malformed: {error}'}) from error
        spec.validate()
        return spec

    def problems(self) -> dict[str, str]:
        """Field name → the sentence saying what is wrong with it; empty when the spec is good."""
        shape = self._shape_problems()
        if shape:  # a message of the wrong shape: the checks below would trip over it
            return shape
        errors: dict[str, str] = {}
        name_problem = network_name_problem(self.name)
        if name_problem:
            errors['name'] = name_problem
        subnet: Network | None = None
        if self.subnet:
            try:
                subnet = parse_subnet(self.subnet)
            except ValueError as error:
                errors['subnet'] = str(error)
        if self.gateway:
            if not self.subnet:
                errors['gateway'] = 'a gateway needs a subnet: give the subnet too'
            elif subnet is not None:
                try:
                    check_gateway(self.gateway, subnet)
                except ValueError as error:
                    errors['gateway'] = str(error)
        if self.ip_range:
            if not self.subnet:
                errors['ip_range'] = 'an IP range needs a subnet: give the subnet too'
            elif subnet is not None:
                try:
                    check_ip_range(self.ip_range, subnet)
                except ValueError as error:
                    errors['ip_range'] = str(error)
        for key in self.labels:
            if not key or '=' in key or any(character.isspace() for character in key):
                errors['labels'] = f"'{clip(key)}' is not a valid label name"
        if not isinstance(self.internal, bool) or not isinstance(self.attachable, bool):
            errors['spec'] = 'internal and attachable are yes-or-no flags'
        return errors

    def _shape_problems(self) -> dict[str, str]:
        errors = {key: f'{key} must be text' for key in TEXT_FIELDS if not isinstance(getattr(self, key), str)}
        if not isinstance(self.labels, dict) or not all(
            isinstance(item, str) for pair in self.labels.items() for item in pair
        ):
            errors['labels'] = 'labels must map names to text'
        return errors

    def validate(self) -> None:
        """Raises :class:`SpecError` (field → sentence) for anything the engine would refuse or should never get."""
        errors = self.problems()
        if errors:
            raise SpecError(errors)

    def create_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``APIClient.create_network``: always the bridge driver."""
        ipam = None
        enable_ipv6 = False
        if self.subnet:
            subnet = parse_subnet(self.subnet)
            enable_ipv6 = subnet.version == 6
            pool = IPAMPool(
                subnet=str(subnet),
                iprange=str(parse_cidr(self.ip_range, 'IP range')) if self.ip_range else None,
                gateway=str(ipaddress.ip_address(self.gateway.strip())) if self.gateway else None,
            )
            ipam = IPAMConfig(pool_configs=[pool])
        return {
            'name': self.name,
            'driver': DRIVER,
            'internal': self.internal,
            'attachable': self.attachable,
            'labels': dict(self.labels) or None,
            'ipam': ipam,
            'enable_ipv6': enable_ipv6,
            'check_duplicate': True,
        }


def network_name_problem(name: str) -> str | None:
    if not name:
        return 'a network needs a name'
    if name in BUILT_IN:
        return f"{name} is the name of one of the engine's own networks (bridge, host, none): choose another"
    if len(name) > NAME_LIMIT:
        return f'a network name has at most {NAME_LIMIT} characters'
    if not NAME.fullmatch(name):
        return (
            f"'{clip(name)}' is not a valid network name: use letters, digits, '_', '.' and '-', "
            'starting with a letter or digit'
        )
    return None


def parse_cidr(text: str, what: str) -> Network:
    """'10.213.1.0/24' → the network; a ValueError with a sentence for anything else (``what``: 'subnet', …)."""
    text = text.strip()
    address_text, slash, prefix = text.partition('/')
    example = '10.213.1.0/24' if ':' not in address_text else 'fd00:213::/64'
    if not slash or '/' in prefix:
        return _raise(f'{clip(text)} is not a valid {what}: write it as address/prefix length, e.g. {example}')
    try:
        address = ipaddress.ip_address(address_text)
    except ValueError:
        given = clip(address_text) or '(nothing)'
        return _raise(f'{clip(text)} is not a valid {what}: {given} is not an IPv4 or IPv6 address')
    bits = address.max_prefixlen
    if not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 3) or int(prefix) > bits:
        return _raise(f'{clip(text)} is not a valid {what}: the prefix length must be 0–{bits}')
    network = ipaddress.ip_network(f'{address}/{int(prefix)}', strict=False)
    if network.network_address != address:
        return _raise(f'{clip(text)} is not a valid {what}: it has host bits set (did you mean {network}?)')
    return network


def parse_subnet(text: str) -> Network:
    """A subnet a bridge network can use: valid CIDR, room for a gateway and containers, not a special range."""
    subnet = parse_cidr(text, 'subnet')
    if subnet.prefixlen > subnet.max_prefixlen - 2:
        raise ValueError(
            f'{subnet} is too small for a network: it leaves no addresses for containers '
            f'(use a prefix of /{subnet.max_prefixlen - 2} or shorter)'
        )
    special = special_range(subnet)
    if special:
        raise ValueError(f'{subnet} cannot be used: it is {special} (use a private range such as 10.213.1.0/24)')
    return subnet


def special_range(network: Network) -> str:
    """'a loopback range', 'a multicast range'… for ranges a bridge network must not take; '' otherwise."""
    if network.network_address.is_unspecified:
        return 'the unspecified address range'
    for kind in ('loopback', 'multicast', 'link_local', 'reserved'):
        if getattr(network, f'is_{kind}'):
            return f'a {kind.replace("_", "-")} range'
    return ''


def parse_address(text: str, what: str) -> Address:
    text = text.strip()
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f'the {what} {clip(text)} is not an IPv4 or IPv6 address') from None


def check_gateway(text: str, subnet: Network) -> Address:
    gateway = parse_address(text, 'gateway')
    if gateway.version != subnet.version:
        raise ValueError(f'the gateway {gateway} is {_family(gateway)} but the subnet {subnet} is {_family(subnet)}')
    _check_host(gateway, subnet, 'the gateway ')
    return gateway


def check_ip_range(text: str, subnet: Network) -> Network:
    ip_range = parse_cidr(text, 'IP range')
    if ip_range.version != subnet.version:
        raise ValueError(f'the IP range {ip_range} is {_family(ip_range)} but the subnet {subnet} is {_family(subnet)}')
    if not ip_range.subnet_of(subnet):  # type: ignore[arg-type]  # same version, checked above
        raise ValueError(f'the IP range {ip_range} must lie inside the subnet {subnet}')
    return ip_range


def check_ipv4(text: str, subnets: Iterable[str], gateways: Iterable[str] = ()) -> str:
    """A fixed IPv4 address for a container on a network with these subnets: inside one of them, not its network or
    broadcast address, not the gateway. Returns the address in canonical form."""
    text = text.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f'{clip(text)} is not an IPv4 address (write four numbers, e.g. 10.213.1.5)') from None
    if address.version != 4:
        raise ValueError(f'{clip(text)} is an IPv6 address: give an IPv4 address here')
    networks = [network for network in (_network(item) for item in subnets) if network and network.version == 4]
    if not networks:
        raise ValueError('this network has no IPv4 subnet, so a container cannot get a fixed IPv4 address on it')
    inside = [network for network in networks if address in network]
    if not inside:
        listed = ', '.join(str(network) for network in networks)
        raise ValueError(f"{address} is outside the network's subnet{'s' if len(networks) > 1 else ''} {listed}")
    _check_host(address, inside[0], '')
    if str(address) in {item.strip() for item in gateways}:
        raise ValueError(f"{address} is the network's gateway: pick another address")
    return str(address)


def parse_aliases(text: str | Iterable[str]) -> list[str]:
    """'db, cache' or ['db', 'cache'] → the aliases (DNS names other containers on the network may use)."""
    items = re.split(r'[\s,]+', text) if isinstance(text, str) else [str(item) for item in text]
    aliases: list[str] = []
    for alias in (item.strip() for item in items):
        if not alias:
            continue
        if len(alias) > ALIAS_LIMIT or not ALIAS.fullmatch(alias) or any(len(part) > 63 for part in alias.split('.')):
            raise ValueError(
                f"'{clip(alias)}' is not a valid alias: use letters, digits, '-', '_' and '.', starting and ending "
                'with a letter or digit (at most 63 characters between dots)'
            )
        if alias not in aliases:
            aliases.append(alias)
    return aliases


def overlapping(subnet: Network, others: dict[str, list[str]]) -> str | None:
    """The sentence naming the first network (name → its subnets) whose subnet overlaps ``subnet``; None if none."""
    for name, subnets in sorted(others.items()):
        for item in subnets:
            other = _network(item)
            if other is not None and other.version == subnet.version and other.overlaps(subnet):  # type: ignore[arg-type]
                return f'{subnet} overlaps the subnet {other} of the network {name}: choose another range'
    return None


def _check_host(address: Address, subnet: Network, what: str) -> None:
    """``what``: 'the gateway ' or '' (the sentence then starts with the address)."""
    if address not in subnet:
        raise ValueError(f'{what}{address} is outside the subnet {subnet}')
    other = f', e.g. {subnet[1]}' if subnet.num_addresses > 2 else ' in a larger subnet'  # a /32 has no second one
    if address == subnet.network_address:
        raise ValueError(f"{what}{address} is the subnet's network address: pick another{other}")
    if subnet.version == 4 and address == subnet.broadcast_address:
        raise ValueError(f"{what}{address} is the subnet's broadcast address: pick another{other}")


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _family(item: Address | Network) -> str:
    return f'IPv{item.version}'


def _raise(message: str) -> Network:
    raise ValueError(message)
