"""Reading an operator's YAML file (templates.yaml, runtimes.yaml): the document, or a sentence saying why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class UnreadableFile(ValueError):
    """A file that cannot be read or parsed; the message is a sentence naming it."""


def load_yaml(path: Path) -> Any:
    """The document in ``path``; :class:`UnreadableFile` for a file that cannot be read, is not YAML, nests deeper
    than the parser goes, or holds a number too long to read."""
    try:
        return yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as error:
        raise UnreadableFile(f'{path.name} cannot be read: {error.strerror or error}') from None
    except UnicodeDecodeError as error:
        raise UnreadableFile(f'{path.name} cannot be read: it is not UTF-8 text (byte {error.start})') from None
    except yaml.YAMLError as error:
        raise UnreadableFile(f'{path.name} is not valid YAML: {error}') from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise UnreadableFile(f'{path.name} cannot be read: it nests lists or mappings too deeply') from None
    except ValueError:  # int() of a number of thousands of digits
        raise UnreadableFile(f'{path.name} cannot be read: it holds a number too long to be one') from None
