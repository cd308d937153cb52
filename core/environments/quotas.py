"""Quotas on dev environments: how many a person may have, how many may run at once, and the CPUs and memory their
running environments may take together.

A rule applies to a role, an SSO group or one account (by user name); for each limit the account's own rule wins,
then the most generous of its groups' rules that set it, then its role's; a limit no rule sets is not limited. The
panel checks a create or a start against the owner's environments in the live state, and signs the limits into the
job; the worker checks again, against the engine, holding the owner's quota lock (core/jobs/locks.py), so that two
creates or starts at once never pass a limit together. A refusal is a sentence naming the limit and the current use.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from core.commands.spec import SpecError
from core.commands.spec_form import parse_cpus, parse_memory
from core.errors import clip
from core.storage.database import Database

QUOTA_PARAM = 'quota'  # where a job's parameters carry the signed limits (a create, an environment's start)
MiB = 2**20
GiB = 2**30


class Applies(StrEnum):
    """What a rule applies to."""

    ROLE = 'role'
    GROUP = 'group'
    USER = 'user'


@dataclass(kw_only=True, slots=True, frozen=True)
class Limits:
    """The four limits; None is 'not limited'."""

    environments: int | None = None  # environments one has, running or not
    running: int | None = None  # environments running at once
    cpus: float | None = None  # CPUs of the running environments together
    memory: int | None = None  # bytes of memory of the running environments together

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Limits:
        """Raises ValueError with a sentence for a value that is not a limit."""
        if not isinstance(data, Mapping):
            raise ValueError('the limits are malformed: not a mapping of limit names to numbers')
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = data.get(item.name)
            if value is None:
                continue
            sentence = f'{item.name}: {clip(repr(value))} is not a limit (a number of 0 or more)'
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(sentence)
            try:
                number = float(value)
            except (ValueError, OverflowError):
                raise ValueError(sentence) from None
            if not math.isfinite(number) or number < 0:
                raise ValueError(sentence)
            values[item.name] = number if item.name == 'cpus' else int(number)
        return cls(**values)

    def over(self, other: Limits) -> Limits:
        """These limits, with ``other``'s for the ones these leave unset."""
        return Limits(
            **{item.name: _first(getattr(self, item.name), getattr(other, item.name)) for item in fields(self)}
        )

    @property
    def unlimited(self) -> bool:
        return all(getattr(self, item.name) is None for item in fields(self))


@dataclass(kw_only=True, slots=True, frozen=True)
class QuotaRule:
    applies: Applies
    name: str  # the role, the group or the user name
    limits: Limits

    @property
    def key(self) -> str:
        """The rule's row: one rule per role, group or account."""
        return f'{self.applies.value}:{self.name}'


@dataclass(kw_only=True, slots=True, frozen=True)
class Held:
    """One environment as a quota counts it."""

    name: str
    running: bool
    cpus: float
    memory: int  # bytes


@dataclass(kw_only=True, slots=True, frozen=True)
class Quota:
    """The limits of one person (``username``, for sentences), as the panel signs them into a job."""

    owner: str  # the stable owner id the limits are for
    username: str
    limits: Limits

    def to_dict(self) -> dict[str, Any]:
        return {'owner': self.owner, 'username': self.username, 'limits': self.limits.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quota:
        """Raises ValueError with a sentence for a malformed one."""
        try:
            quota = cls(
                owner=str(data['owner']), username=str(data['username']), limits=Limits.from_dict(data['limits'])
            )
        except KeyError as error:
            raise ValueError(f'the quota is malformed: it has no {error}') from None
        except TypeError:
            raise ValueError('the quota is malformed: not a mapping of owner, username and limits') from None
        if not quota.owner:
            raise ValueError('the quota names no owner')
        return quota

    def create_refusal(self, held: Iterable[Held], new: Held) -> str | None:
        """Why ``new`` (made and started) may not join ``held``, or None when it fits."""
        held = [environment for environment in held if environment.name != new.name]
        return self._count_refusal(held) or self.start_refusal(held, new)

    def take_refusal(self, held: Iterable[Held], new: Held) -> str | None:
        """Why ``new``, handed over as it is (running or stopped), may not join ``held``, or None when it fits."""
        if new.running:
            return self.create_refusal(held, new)
        return self._count_refusal([environment for environment in held if environment.name != new.name])

    def _count_refusal(self, held: list[Held]) -> str | None:
        """Why one more environment may not join ``held`` (the others), or None."""
        limit = self.limits.environments
        if limit is not None and len(held) + 1 > limit:
            return f'{self.username} may have {_count(limit, "environment")} and already has {len(held)}{_names(held)}'
        return None

    def start_refusal(self, held: Iterable[Held], new: Held) -> str | None:
        """Why ``new`` may not start beside the running ones among ``held``, or None when it fits."""
        running = [environment for environment in held if environment.running and environment.name != new.name]
        limits = self.limits
        if limits.running is not None and len(running) + 1 > limits.running:
            return (
                f'{self.username} may run {_count(limits.running, "environment")} at once and already runs '
                f'{len(running)}{_names(running)}'
            )
        cpus = sum(environment.cpus for environment in running)
        if limits.cpus is not None and cpus + new.cpus > limits.cpus + 1e-9:
            return (
                f'{self.username} may use {_cpus(limits.cpus)} in running environments and already uses '
                f'{_cpus(cpus, unit=False)}{_names(running)}; {new.name} needs {_cpus(new.cpus, unit=False)}'
            )
        memory = sum(environment.memory for environment in running)
        if limits.memory is not None and memory + new.memory > limits.memory:
            return (
                f'{self.username} may use {memory_words(limits.memory)} of memory in running environments and '
                f'already uses {memory_words(memory)}{_names(running)}; {new.name} needs {memory_words(new.memory)}'
            )
        return None


def limits_for(rules: Iterable[QuotaRule], *, username: str, role: str, groups: Iterable[str]) -> Limits:
    """The limits of one account: its own rule's, then for each limit still unset the most generous of its groups'
    (a group that does not set a limit has no say in it), then its role's."""
    mine = set(groups)
    own, role_limits = Limits(), Limits()
    group_rules: list[Limits] = []
    for rule in rules:
        if rule.applies is Applies.USER and rule.name == username:
            own = rule.limits
        elif rule.applies is Applies.ROLE and rule.name == role:
            role_limits = rule.limits
        elif rule.applies is Applies.GROUP and rule.name in mine:
            group_rules.append(rule.limits)
    from_groups = Limits(
        **{
            item.name: max(
                (value for limits in group_rules if (value := getattr(limits, item.name)) is not None), default=None
            )
            for item in fields(Limits)
        }
    )
    return own.over(from_groups).over(role_limits)


class QuotaRules:
    """The rules in the database (one JSON row each), edited on /admin/quotas."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def all(self) -> list[QuotaRule]:
        rows = self.database.query('SELECT applies, name, data FROM quotas ORDER BY applies, name')
        return [
            QuotaRule(
                applies=Applies(row['applies']), name=row['name'], limits=Limits.from_dict(json.loads(row['data']))
            )
            for row in rows
        ]

    def save(self, rule: QuotaRule, by: str) -> None:
        self.database.upsert(
            'quotas',
            'rule',
            {
                'rule': rule.key,
                'applies': rule.applies.value,
                'name': rule.name,
                'data': json.dumps(rule.limits.to_dict(), sort_keys=True),
                'updated_by': by,
                'updated_at': time.time(),
            },
        )

    def delete(self, applies: Applies, name: str) -> bool:
        return self.database.execute('DELETE FROM quotas WHERE rule = ?', (f'{applies.value}:{name}',)) > 0

    def quota(self, *, owner: str, username: str, role: str, groups: Iterable[str]) -> Quota:
        """The quota of the account ``username`` (stable id ``owner``). Blocking: call it through ``run.io_bound``."""
        return Quota(
            owner=owner, username=username, limits=limits_for(self.all(), username=username, role=role, groups=groups)
        )


FORM_FIELDS = ('environments', 'running', 'cpus', 'memory')
MAX_COUNT = 1_000_000  # environments a rule may allow


def rule_from_form(values: Mapping[str, Any]) -> QuotaRule:
    """A rule from the admin form: ``applies``, ``name`` and the four limits as typed ('' is not limited); raises
    :class:`SpecError` with a sentence per wrong field."""
    errors: dict[str, str] = {}
    try:
        applies = Applies(str(values.get('applies') or ''))
    except ValueError:
        errors['applies'] = 'choose what the quota applies to: a role, an SSO group or an account'
        applies = Applies.ROLE
    name = str(values.get('name') or '').strip()
    if not name:
        errors['name'] = f'name the {applies.value} the quota applies to'
    limits: dict[str, Any] = {}
    for key, parse in (
        ('environments', _whole_number),
        ('running', _whole_number),
        ('cpus', parse_cpus),
        ('memory', parse_memory),
    ):
        text = str(values.get(key) or '').strip()
        if not text:
            continue
        try:
            limits[key] = parse(text)
        except ValueError as error:
            errors[key] = str(error)
    if errors:
        raise SpecError(errors)
    return QuotaRule(applies=applies, name=name, limits=Limits(**limits))


def _whole_number(text: str) -> int:
    sentence = f"'{clip(text)}' is not a whole number (0 or more)"
    if not text.isascii() or not text.isdigit():
        raise ValueError(sentence)
    if len(text) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:  # a limit must travel in a job as a number
        raise ValueError(f"'{clip(text)}' is more than any limit needs: at most {MAX_COUNT:,}")
    return int(text)


def memory_words(size: float) -> str:
    """Bytes in binary units, as docker reads memory limits: '64 MiB', '1.5 GiB'."""
    for unit, scale in (('GiB', GiB), ('MiB', MiB), ('KiB', 1024)):
        if size >= scale:
            return f'{size / scale:.3g} {unit}'
    return f'{int(size)} B'


def _first(value: Any, fallback: Any) -> Any:
    return value if value is not None else fallback


def _count(number: int, noun: str) -> str:
    return f'{number} {noun}{"" if number == 1 else "s"}'


def _cpus(number: float, *, unit: bool = True) -> str:
    text = f'{number:.3g}'
    return f'{text} CPU{"" if number == 1 else "s"}' if unit else text


def _names(held: list[Held]) -> str:
    return f' ({", ".join(sorted(environment.name for environment in held))})' if held else ''
