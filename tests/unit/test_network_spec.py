"""What a network request may say: subnets, gateways, IP ranges, fixed addresses and aliases, each refused with a
sentence that says what is wrong; and the driver is always bridge."""

from __future__ import annotations

import pytest

from core.commands.network_spec import (
    NetworkSpec,
    check_ipv4,
    overlapping,
    parse_aliases,
    parse_subnet,
)
from core.commands.spec import SpecError


@pytest.mark.parametrize(
    ('subnet', 'sentence'),
    [
        ('10.1.0.0/33', '10.1.0.0/33 is not a valid subnet: the prefix length must be 0–32'),
        ('fd00::/129', 'fd00::/129 is not a valid subnet: the prefix length must be 0–128'),
        ('10.1.0.0/x', '10.1.0.0/x is not a valid subnet: the prefix length must be 0–32'),
        ('10.1.0.5/24', '10.1.0.5/24 is not a valid subnet: it has host bits set (did you mean 10.1.0.0/24?)'),
        ('10.1.0.300/24', '10.1.0.300/24 is not a valid subnet: 10.1.0.300 is not an IPv4 or IPv6 address'),
        ('10.1.0.0', '10.1.0.0 is not a valid subnet: write it as address/prefix length, e.g. 10.213.1.0/24'),
        ('10.1.0.0/24/8', '10.1.0.0/24/8 is not a valid subnet: write it as address/prefix length, e.g. 10.213.1.0/24'),
        ('10.1.0.0/31', '10.1.0.0/31 is too small for a network: it leaves no addresses for containers'),
        ('127.0.0.0/8', '127.0.0.0/8 cannot be used: it is a loopback range'),
        ('224.0.0.0/4', '224.0.0.0/4 cannot be used: it is a multicast range'),
        ('0.0.0.0/0', '0.0.0.0/0 cannot be used: it is the unspecified address range'),
    ],
)
def test_a_malformed_subnet_gets_a_sentence(subnet: str, sentence: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_subnet(subnet)
    assert str(refused.value).startswith(sentence)


@pytest.mark.parametrize('subnet', ['10.213.0.0/16', '10.213.1.0/24', ' 192.168.77.0/24 ', 'fd00:213::/64'])
def test_good_subnets_pass(subnet: str) -> None:
    assert str(parse_subnet(subnet)) == subnet.strip()


@pytest.mark.parametrize(
    ('fields', 'field', 'sentence'),
    [
        ({'gateway': '10.2.0.1'}, 'gateway', 'the gateway 10.2.0.1 is outside the subnet 10.1.0.0/24'),
        ({'gateway': '10.1.0.0'}, 'gateway', "the gateway 10.1.0.0 is the subnet's network address"),
        ({'gateway': '10.1.0.255'}, 'gateway', "the gateway 10.1.0.255 is the subnet's broadcast address"),
        ({'gateway': 'fd00::1'}, 'gateway', 'the gateway fd00::1 is IPv6 but the subnet 10.1.0.0/24 is IPv4'),
        ({'gateway': '10.1.0.x'}, 'gateway', 'the gateway 10.1.0.x is not an IPv4 or IPv6 address'),
        ({'ip_range': '10.2.0.0/25'}, 'ip_range', 'the IP range 10.2.0.0/25 must lie inside the subnet 10.1.0.0/24'),
        ({'ip_range': '10.0.0.0/16'}, 'ip_range', 'the IP range 10.0.0.0/16 must lie inside the subnet 10.1.0.0/24'),
        ({'ip_range': 'fd00::/64'}, 'ip_range', 'the IP range fd00::/64 is IPv6 but the subnet 10.1.0.0/24 is IPv4'),
        ({'ip_range': '10.1.0.1/25'}, 'ip_range', '10.1.0.1/25 is not a valid IP range: it has host bits set'),
        ({'subnet': '', 'gateway': '10.1.0.1'}, 'gateway', 'a gateway needs a subnet'),
        ({'subnet': '', 'ip_range': '10.1.0.0/25'}, 'ip_range', 'an IP range needs a subnet'),
        ({'name': 'my net'}, 'name', "'my net' is not a valid network name"),
        ({'name': '-net'}, 'name', "'-net' is not a valid network name"),
        ({'name': ''}, 'name', 'a network needs a name'),
        ({'name': 'host'}, 'name', "host is the name of one of the engine's own networks"),
        ({'labels': {'bad key': 'x'}}, 'labels', "'bad key' is not a valid label name"),
    ],
)
def test_each_field_says_what_is_wrong(fields: dict, field: str, sentence: str) -> None:
    spec = NetworkSpec(**{'name': 'bt-net-unit', 'subnet': '10.1.0.0/24', **fields})
    assert spec.problems()[field].startswith(sentence)
    with pytest.raises(SpecError):
        spec.validate()


def test_a_good_spec_always_asks_for_the_bridge_driver() -> None:
    spec = NetworkSpec(
        name='bt-net-unit',
        internal=True,
        subnet='10.213.9.0/24',
        gateway='10.213.9.1',
        ip_range='10.213.9.128/25',
        labels={'team': 'ops'},
    )
    assert spec.problems() == {}
    arguments = spec.create_arguments()
    assert (arguments['driver'], arguments['internal'], arguments['enable_ipv6']) == ('bridge', True, False)
    assert arguments['ipam']['Config'] == [
        {'Subnet': '10.213.9.0/24', 'IPRange': '10.213.9.128/25', 'Gateway': '10.213.9.1', 'AuxiliaryAddresses': None}
    ]
    assert NetworkSpec(name='bt-net-six', subnet='fd00:213::/64').create_arguments()['enable_ipv6'] is True


def test_a_message_naming_a_driver_is_refused() -> None:
    data = NetworkSpec(name='bt-net-unit').to_dict()
    assert NetworkSpec.from_dict(data).name == 'bt-net-unit'
    with pytest.raises(SpecError, match='unknown fields: driver'):
        NetworkSpec.from_dict({**data, 'driver': 'macvlan'})
    with pytest.raises(SpecError, match='host bits'):
        NetworkSpec.from_dict({**data, 'subnet': '10.1.0.5/24'})


@pytest.mark.parametrize(
    ('address', 'sentence'),
    [
        ('10.2.0.5', "10.2.0.5 is outside the network's subnet 10.1.0.0/24"),
        ('fd00::5', 'fd00::5 is an IPv6 address: give an IPv4 address here'),
        ('10.1.0', '10.1.0 is not an IPv4 address'),
        ('10.1.0.1', "10.1.0.1 is the network's gateway"),
        ('10.1.0.0', "10.1.0.0 is the subnet's network address"),
        ('10.1.0.255', "10.1.0.255 is the subnet's broadcast address"),
    ],
)
def test_a_fixed_ipv4_address_must_lie_inside_the_network(address: str, sentence: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_ipv4(address, ['10.1.0.0/24', 'fd00:1::/64'], ['10.1.0.1'])
    assert str(refused.value).startswith(sentence)
    assert check_ipv4(' 10.1.0.7 ', ['10.1.0.0/24'], ['10.1.0.1']) == '10.1.0.7'
    with pytest.raises(ValueError, match='has no IPv4 subnet'):
        check_ipv4('10.1.0.7', ['fd00:1::/64'])


def test_aliases_are_dns_names() -> None:
    assert parse_aliases('db, cache  db\nweb.internal') == ['db', 'cache', 'web.internal']
    assert parse_aliases(['api']) == ['api']
    for wrong in ('db!', '-db', 'db-', 'a' * 64, 'x/y'):
        with pytest.raises(ValueError, match=f"'{wrong}' is not a valid alias"):
            parse_aliases(f'ok, {wrong}')


def test_overlapping_subnets_name_the_network() -> None:
    subnet = parse_subnet('10.213.1.0/24')
    assert overlapping(subnet, {'wide': ['10.213.0.0/16']}) == (
        '10.213.1.0/24 overlaps the subnet 10.213.0.0/16 of the network wide: choose another range'
    )
    assert overlapping(subnet, {'other': ['10.214.0.0/16', 'fd00::/64']}) is None
