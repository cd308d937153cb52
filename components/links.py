"""Where a container, image or volume page lives: every URL carries the endpoint (``/hosts/{endpoint}/…``), so a second
Docker host is configuration, not a rewrite. The short forms (``/containers/{name}``, ``/images/{reference}``) keep
working for the ``local`` endpoint."""

from __future__ import annotations

from urllib.parse import quote

from core.permissions import LOCAL_ENDPOINT

HOSTS = '/hosts/{endpoint}'


def container_path(name: str, endpoint: str = LOCAL_ENDPOINT, tail: str = '') -> str:
    """``/hosts/local/containers/web``, ``…/web/logs``, ``…/web/terminal``."""
    return f'/hosts/{quote(endpoint, safe="")}/containers/{quote(name, safe="")}{tail}'


def image_path(reference: str, endpoint: str = LOCAL_ENDPOINT) -> str:
    return f'/hosts/{quote(endpoint, safe="")}/images/{quote(reference, safe="/:@")}'


def volume_path(name: str, endpoint: str = LOCAL_ENDPOINT) -> str:
    """``/hosts/local/volumes/data`` (``/volumes/data`` works for ``local``)."""
    return f'/hosts/{quote(endpoint, safe="")}/volumes/{quote(name, safe="")}'


def network_path(name: str, endpoint: str = LOCAL_ENDPOINT) -> str:
    """``/hosts/local/networks/backend``."""
    return f'/hosts/{quote(endpoint, safe="")}/networks/{quote(name, safe="")}'


def stack_path(name: str, endpoint: str = LOCAL_ENDPOINT) -> str:
    """``/stacks/shop`` for ``local``, ``/hosts/b/stacks/shop`` elsewhere."""
    tail = f'/stacks/{quote(name, safe="")}'
    return tail if endpoint == LOCAL_ENDPOINT else f'/hosts/{quote(endpoint, safe="")}{tail}'


def js_container_href(name_field: str = 'props.row.name', endpoint_field: str = 'props.row.endpoint') -> str:
    """The same path as a Vue expression for table cells (rows carry ``endpoint``)."""
    return f"'/hosts/' + encodeURIComponent({endpoint_field}) + '/containers/' + encodeURIComponent({name_field})"


def js_image_href() -> str:
    return "'/hosts/' + encodeURIComponent(props.row.endpoint) + '/images/' + encodeURIComponent(props.row.id)"


def js_volume_href() -> str:
    return "'/hosts/' + encodeURIComponent(props.row.endpoint) + '/volumes/' + encodeURIComponent(props.row.name)"


def js_network_href() -> str:
    return "'/hosts/' + encodeURIComponent(props.row.endpoint) + '/networks/' + encodeURIComponent(props.row.name)"


def on_host(endpoint: str) -> str:
    """' on host "staging"' for sentences about a resource that is not on the local endpoint ('' on it)."""
    return '' if endpoint == LOCAL_ENDPOINT else f' on host "{endpoint}"'
