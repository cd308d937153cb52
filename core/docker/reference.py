"""Docker's image reference grammar: what a user may type as an image, parsed the way the daemon parses it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.errors import clip

# docker's reference grammar (distribution/reference, as the daemon of Docker 20.10 applies it)
_ALPHANUMERIC = r'[a-z0-9]+'
_SEPARATOR = r'(?:[._]|__|-+)'
PATH_COMPONENT = re.compile(rf'{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*')
_DOMAIN_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
DOMAIN = re.compile(rf'(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::(?P<port>[0-9]+))?')
TAG = re.compile(r'[\w][\w.-]{0,127}')
DIGEST = re.compile(r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}')
IMAGE_ID = re.compile(r'[a-f0-9]{64}')
NAME_MAX = 255
DOCKER_HUB = 'docker.io'
DOCKER_HUB_NAMES = ('docker.io', 'index.docker.io', 'registry-1.docker.io')
DOCKER_HUB_API = 'registry-1.docker.io'  # where Docker Hub's registry API answers
EXAMPLE = 'e.g. nginx:1.27 or 127.0.0.1:5000/team/app:2'


class InvalidReference(ValueError):
    """An image reference that docker would refuse; the message is a sentence for the user."""


@dataclass(kw_only=True, slots=True, frozen=True)
class ImageReference:
    """A parsed image reference: ``[registry/]repository[:tag][@digest]``."""

    registry: str
    repository: str
    tag: str = ''
    digest: str = ''

    @property
    def name(self) -> str:
        """The repository with its registry, as the user wrote it (no tag, no digest)."""
        return f'{self.registry}/{self.repository}' if self.registry else self.repository

    @property
    def registry_key(self) -> str:
        """The registry the credentials belong to ('docker.io' when none is written)."""
        return self.registry or DOCKER_HUB

    @property
    def api_host(self) -> str:
        """The host (and port) whose ``/v2/`` API serves this repository: Docker Hub's is 'registry-1.docker.io'."""
        return DOCKER_HUB_API if self.registry_key in DOCKER_HUB_NAMES else self.registry_key

    @property
    def api_repository(self) -> str:
        """The repository as the registry API names it: Docker Hub's official images live under 'library/'."""
        if self.registry_key in DOCKER_HUB_NAMES and '/' not in self.repository:
            return f'library/{self.repository}'
        return self.repository

    @property
    def canonical_name(self) -> str:
        """Registry and repository spelled one way whatever the user wrote ('busybox', 'docker.io/library/busybox'
        both give 'docker.io/library/busybox'), to tell whether two references name the same repository."""
        registry = DOCKER_HUB if self.registry_key in DOCKER_HUB_NAMES else self.registry_key
        return f'{registry}/{self.api_repository}'

    @property
    def familiar(self) -> str:
        """The reference as the engine writes its tags: Docker Hub's registry and 'library/' left out, ':latest' when
        neither tag nor digest is given ('docker.io/library/busybox' → 'busybox:latest')."""
        name = self.name
        if self.registry_key in DOCKER_HUB_NAMES:
            name = self.repository.removeprefix('library/') if self.repository.count('/') == 1 else self.repository
        tag = self.tag or ('' if self.digest else 'latest')
        return name + (f':{tag}' if tag else '') + (f'@{self.digest}' if self.digest else '')

    @property
    def pull_tag(self) -> str:
        """What the daemon's pull endpoint takes as ``tag``: the digest, the tag, or 'latest'."""
        return self.digest or self.tag or 'latest'

    def __str__(self) -> str:
        if self.digest:
            return f'{self.name}:{self.tag}@{self.digest}' if self.tag else f'{self.name}@{self.digest}'
        return f'{self.name}:{self.tag or "latest"}'


def parse_reference(text: str, *, allow_digest: bool = True) -> ImageReference:
    """Parses ``text`` with docker's grammar; raises :class:`InvalidReference` with a sentence that says what is wrong.

    Surrounding whitespace is ignored; a missing tag means 'latest' (as ``docker pull`` does).
    """
    text = text.strip()
    if not text:
        raise InvalidReference(f'enter an image reference ({EXAMPLE})')

    def invalid(reason: str) -> InvalidReference:
        return InvalidReference(f"image reference '{clip(text)}' is not valid: {reason}")

    if any(character.isspace() for character in text):
        raise invalid('spaces are not allowed')
    if '://' in text:
        raise invalid('leave out the scheme (http:// or https://), e.g. 127.0.0.1:5000/team/app:2')
    name, _, digest = text.partition('@')
    if '@' in text:
        if not allow_digest:
            raise invalid('a digest (@sha256:…) cannot be used here')
        if not DIGEST.fullmatch(digest):
            raise invalid(f"the digest '{clip(digest)}' must look like sha256: followed by 64 hexadecimal characters")
        if digest.startswith('sha256:') and len(digest) != len('sha256:') + 64:
            raise invalid('a sha256 digest has exactly 64 hexadecimal characters')
    tag = ''
    last_colon, last_slash = name.rfind(':'), name.rfind('/')
    if last_colon > last_slash:
        name, tag = name[:last_colon], name[last_colon + 1 :]
        if not tag:
            raise invalid('the tag after the colon is empty')
        if not TAG.fullmatch(tag):
            raise invalid(
                f"the tag '{clip(tag)}' may only contain letters, digits, '_', '.' and '-', must not start "
                "with '.' or '-', and has at most 128 characters"
            )
    if not name:
        raise invalid('the repository name is missing')
    if len(name) > NAME_MAX:
        raise invalid(f'the name is longer than {NAME_MAX} characters')
    registry, repository = _split_registry(name)
    if registry and not any(mark in registry for mark in '.:') and registry != 'localhost':
        # docker reads a first part with capitals as a registry host, which then cannot be reached: say what it is
        raise invalid(
            f"'{clip(registry)}' has capital letters: repository names must be lowercase (a registry address "
            "needs a '.' or a ':port', e.g. registry.example.com/team/app)"
        )
    if registry:
        match = DOMAIN.fullmatch(registry)
        if match is None:
            raise invalid(f"'{clip(registry)}' is not a valid registry address (host or host:port)")
        if match.group('port') and not 0 < int(match.group('port')) < 65536:
            raise invalid(f"the port in '{clip(registry)}' must be between 1 and 65535")
    _check_repository(repository, invalid)
    return ImageReference(registry=registry, repository=repository, tag=tag, digest=digest)


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition('/')
    # like docker: the first part is a registry if it has a '.', a ':', is 'localhost' or has capitals
    if slash and (any(mark in first for mark in '.:') or first == 'localhost' or first.lower() != first):
        return first, rest
    return '', name


def _check_repository(repository: str, invalid: Any) -> None:
    if IMAGE_ID.fullmatch(repository):
        raise invalid('a 64-character hexadecimal string is an image id, not a repository name')
    for component in repository.split('/'):
        if not component:
            raise invalid("a part of the name is empty ('//', or a '/' at the start or end)")
        if component.lower() != component:
            raise invalid('the repository name must be lowercase')
        if not PATH_COMPONENT.fullmatch(component):
            raise invalid(
                f"'{clip(component)}' may only contain lowercase letters, digits and the separators '.', '_', "
                "'__' and '-', and must start and end with a letter or digit"
            )
