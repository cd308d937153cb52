"""Failed sign-ins through the real login page: they hold back the address that failed, never the account's owner."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from nicegui import core
from nicegui.testing import User

from .test_pages import sign_in


def user_at(address: str) -> User:
    """A simulated browser whose requests come from ``address``."""
    transport = httpx.ASGITransport(core.app, client=(address, 40000))
    return User(httpx.AsyncClient(transport=transport, base_url='http://test'))


async def test_failures_from_one_address_do_not_lock_the_owner_out(create_user: Callable[[], User]) -> None:
    # Given someone failing five times for admin from one address
    attacker, owner = user_at('203.0.113.7'), user_at('198.51.100.2')
    for _ in range(5):
        await sign_in(attacker, password='wrong', succeeds=False)
        await attacker.should_see('Wrong username or password.')
    # Then that address waits, even with the right password
    await sign_in(attacker, succeeds=False)
    await attacker.should_see('Too many failed sign-ins.')
    # And admin, from an address that has not failed, signs in with the right password
    await sign_in(owner)
    await owner.should_see('admin · admin')
