"""A table of named definitions an admin edits in a page (one JSON row each), seeded at every start from a YAML file
in the data directory that wins for the names it holds: environment templates (templates.yaml) and sandbox runtimes
(runtimes.yaml) are two of them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from core.commands.spec import SpecError
from core.errors import clip
from core.storage.database import Database
from core.yaml_file import UnreadableFile, load_yaml


class Definition(Protocol):
    @property
    def name(self) -> str: ...

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = 'page') -> Self: ...

    @classmethod
    def from_json(cls, text: str) -> Self: ...

    def to_json(self) -> str: ...

    def refusals(self) -> list[str]: ...


T = TypeVar('T', bound=Definition)


class SeededStore(Generic[T]):
    """``table`` holds rows (name, data, updated_by, updated_at); ``kind`` builds them; ``noun`` and ``fields_hint``
    are the words of the file's sentences."""

    table: ClassVar[str]
    noun: ClassVar[str]  # 'template'
    fields_hint: ClassVar[str]  # 'name, image, home, cpus, memory, ...'
    kind: type[T]

    def __init__(self, database: Database) -> None:
        self.database = database

    def all(self) -> list[T]:
        rows = self.database.query(f'SELECT data FROM {self.table} ORDER BY name')
        return [self.kind.from_json(row['data']) for row in rows]

    def get(self, name: str) -> T | None:
        rows = self.database.query(f'SELECT data FROM {self.table} WHERE name = ?', (name,))
        return self.kind.from_json(rows[0]['data']) if rows else None

    def save(self, item: T, by: str) -> None:
        self.database.upsert(
            self.table,
            'name',
            {'name': item.name, 'data': item.to_json(), 'updated_by': by, 'updated_at': time.time()},
        )

    def delete(self, name: str) -> bool:
        return self.database.execute(f'DELETE FROM {self.table} WHERE name = ?', (name,)) > 0

    def seed(self, path: Path) -> list[str]:
        """Saves every entry of ``path`` (a YAML list of mappings) when the file exists; the file wins over the page
        for the names it holds. Returns a sentence per entry that was not saved (malformed, or refused by the body
        policy as an operator's request)."""
        if not path.is_file():
            return []
        try:
            entries = load_yaml(path)
        except UnreadableFile as error:
            return [str(error)]
        if not isinstance(entries, list):
            return [f'{path.name} must be a list of {self.noun}s (mappings with {self.fields_hint})']
        problems = []
        for index, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                problems.append(f'{path.name}, {self.noun} {index}: not a mapping')
                continue
            label = f'{path.name}, {self.noun} {clip(entry.get("name") or index)}'
            try:
                item = self.kind.from_mapping(entry, source='file')
            except SpecError as error:
                problems.append(f'{label}: {error}')
                continue
            refused = item.refusals()
            if refused:
                problems.append(f'{label}: {"; ".join(refused)}')
                continue
            self.save(item, by=path.name)
        return problems
