"""The new-network and new-volume inputs (core/commands/network_spec.py, volume_input.py) and what their jobs carry,
under hostile input: a request the engine takes, or a sentence."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from core.commands.network_spec import (
    NetworkSpec,
    check_gateway,
    check_ip_range,
    check_ipv4,
    overlapping,
    parse_aliases,
    parse_cidr,
    parse_subnet,
)
from core.commands.spec import SpecError
from core.commands.volume_input import VolumeRequest, volume_request

from .strategies import VALUES, assert_sentence, hostile_text

NETWORK_FIELDS = tuple(NetworkSpec.__dataclass_fields__)
# Addresses and ranges that are almost right, next to hostile text
ADDRESSES = st.one_of(
    hostile_text(),
    st.ip_addresses().map(str),
    st.builds(lambda address, prefix: f'{address}/{prefix}', st.ip_addresses(), st.integers(-1, 200)),
    st.sampled_from(
        ('10.0.0.0/8', '10.1.0.0/16', 'fd00::/64', '10.0.0.1/32', '0.0.0.0/0', '10.0.0.0/ 8', '1.2.3.4/08')
    ),
)


@given(ADDRESSES, st.sampled_from(('subnet', 'IP range')))
@example('10.0.0.0/' + '9' * 5000, 'subnet')  # was: "Exceeds the limit (4300 digits)"
@example('10.0.0.0/٣', 'subnet')  # an Arabic-Indic digit
@example('10.0.0.0/²', 'subnet')  # was: int('²') ValueError with Python's words
def test_cidr(text: str, what: str) -> None:
    try:
        network = parse_cidr(text, what)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert network == ipaddress.ip_network(str(network))


@given(ADDRESSES, ADDRESSES, ADDRESSES, ADDRESSES)
@example('1.0.0.0/8', '', '', '0.0.0.0')  # was: IndexError naming another address of a /32 (deep profile)
def test_subnet_gateway_range_and_fixed_address(subnet_text: str, gateway: str, ip_range: str, address: str) -> None:
    try:
        subnet = parse_subnet(subnet_text)
    except ValueError as error:
        assert_sentence(str(error))
        return
    for check, text in ((check_gateway, gateway), (check_ip_range, ip_range)):
        try:
            check(text, subnet)
        except ValueError as error:
            assert_sentence(str(error))
    try:
        fixed = check_ipv4(address, [str(subnet), subnet_text, address], [gateway])
    except ValueError as error:
        assert_sentence(str(error))
    else:
        assert ipaddress.ip_address(fixed) in subnet or ipaddress.ip_address(fixed) in ipaddress.ip_network(
            address.strip(), strict=False
        )
    sentence = overlapping(subnet, {'other': [subnet_text, ip_range, address, gateway]})
    assert sentence is None or sentence.strip()


@given(st.one_of(hostile_text(), st.lists(hostile_text(6), max_size=4)))
def test_aliases(text: str | list[str]) -> None:
    try:
        aliases = parse_aliases(text)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert all(alias and len(alias) <= 253 for alias in aliases)


@given(
    st.fixed_dictionaries(
        {'name': hostile_text(6)}, optional={key: hostile_text(6) for key in NETWORK_FIELDS if key != 'name'}
    )
)
def test_network_form(values: dict[str, str]) -> None:
    spec = NetworkSpec(
        name=values['name'],
        subnet=values.get('subnet', ''),
        gateway=values.get('gateway', ''),
        ip_range=values.get('ip_range', ''),
        labels={values.get('labels', 'team'): values.get('internal', 'blue')},
    )
    problems = spec.problems()
    for message in problems.values():
        assert_sentence(message)
    if not problems:
        json.dumps(spec.create_arguments(), default=dict)


@given(st.dictionaries(st.sampled_from(NETWORK_FIELDS), VALUES, max_size=5))
@example({'name': 1})  # was: TypeError: object of type 'int' has no len()
@example({'name': 'net', 'subnet': ['10.0.0.0/8']})  # was: AttributeError: 'list' object has no attribute 'strip'
@example({'name': 'net', 'labels': ['a']})
def test_network_from_a_message(data: dict[str, Any]) -> None:
    """What a network job carries: a spec or a SpecError, whatever its shape."""
    try:
        NetworkSpec.from_dict({'name': 'net', **data})
    except SpecError as error:
        for message in error.errors.values():
            assert_sentence(message)


@given(hostile_text(), hostile_text(6), hostile_text(), hostile_text())
def test_volume_form(name: str, driver: str, labels: str, options: str) -> None:
    request, problems = volume_request(name, driver, labels, options)
    for problem in problems:
        assert_sentence(problem)
    if not problems:
        assert request.name == name.strip() and len(request.name) >= 2
        json.dumps(request.to_params())


@given(hostile_text(6), st.dictionaries(st.sampled_from(('driver', 'labels', 'driver_options')), VALUES, max_size=3))
@example('data', {'labels': ['a=b']})  # was: AttributeError: 'list' object has no attribute 'items'
@example('data', {'driver_options': 'o=1'})
def test_volume_from_a_message(name: str, params: dict[str, Any]) -> None:
    """What a volume job carries (the worker reads it again): a request, or a ValueError with a sentence."""
    try:
        request = VolumeRequest.from_params(name, params)
    except ValueError as error:
        assert_sentence(str(error))
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in request.labels.items())
