"""A tag that moves in a real registry: push an image under it, pull it into the engine, push another image under
the same tag (through a second address of the registry, so the engine's tag stays on the image pulled before), make
containers from it; everything made is removed at :meth:`MovingTag.close`. For the image update check tests."""

from __future__ import annotations

import subprocess
import uuid

import docker

from .registry import LocalRegistry, ThrottledProxy, build_layered_image, forget_locally, push_and_forget


class MovingTag:
    def __init__(
        self,
        client: docker.DockerClient,
        registry: LocalRegistry,
        *,
        prefix: str,
        auth: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.registry = registry
        self.prefix = prefix  # names every repository and container made (a test's Docker prefix)
        self.auth = auth
        self.reference = f'{registry.address}/{prefix}/app:{uuid.uuid4().hex[:8]}'
        self.containers: list[str] = []
        self.proxy = ThrottledProxy(registry.port, 0)  # the second address (unthrottled)

    @property
    def repository(self) -> str:
        return self.reference.rsplit(':', 1)[0]

    def push(self, *, again: bool = False) -> None:
        """Pushes a new image (busybox and a random layer of its own) under the tag; ``again``: through the second
        address, leaving the engine's tag where it is."""
        local = f'{self.prefix}/update-build:{uuid.uuid4().hex[:8]}'
        build_layered_image(self.client, local, [0.05])
        address = self.proxy.address if again else self.registry.address
        push_and_forget(self.client, local, address, self.reference.split('/', 1)[1], auth_config=self.auth)

    def pull(self, reference: str = '') -> str:
        """Pulls the tag (or ``reference``) into the engine; returns the image id."""
        self.client.images.pull(reference or self.reference, auth_config=self.auth)
        return str(self.client.images.get(reference or self.reference).id)

    def container(self, image: str) -> str:
        """Creates (does not start) a container from ``image``; returns its name."""
        name = f'{self.prefix}-{uuid.uuid4().hex[:10]}'
        self.client.containers.create(image, command='true', name=name, labels={'berth-test': '1'})
        self.containers.append(name)
        return name

    def close(self) -> None:
        for name in self.containers:
            subprocess.run(['docker', 'rm', '-f', name], check=False, capture_output=True)
        images = self.client.images.list(name=self.repository)
        forget_locally(self.reference)
        for image in images:
            forget_locally(str(image.id))
        self.proxy.close()
