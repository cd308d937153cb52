"""Docker Engine access: the client for an endpoint, and the daemon's errors as sentences."""

from __future__ import annotations

import docker
import docker.errors
import requests.exceptions


def make_client(docker_host: str | None, timeout: int = 30) -> docker.DockerClient:
    """A Docker SDK client for the endpoint (``DOCKER_HOST`` or the local socket)."""
    if docker_host:
        return docker.DockerClient(base_url=docker_host, timeout=timeout)
    return docker.DockerClient(base_url='unix:///var/run/docker.sock', timeout=timeout)


def describe_error(error: BaseException) -> str:
    """A sentence for the user: the daemon's own message where there is one, never a traceback."""
    if isinstance(error, docker.errors.NotFound):
        return f'not found: {_explanation(error)}'
    if isinstance(error, docker.errors.APIError):
        return _explanation(error)
    if isinstance(error, (requests.exceptions.ConnectionError, ConnectionError, FileNotFoundError)):
        return 'Docker engine unreachable'
    if isinstance(error, requests.exceptions.Timeout):
        return 'Docker engine did not answer in time'
    return str(error) or type(error).__name__


def _explanation(error: docker.errors.APIError) -> str:
    explanation = error.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors='replace')
    return str(explanation or error)
