"""Permissions, roles as named sets of them, and the one guard every page, handler, dispatch and stream passes.

The guard decides from (identity, permission, the resource's scope). A scope is where a resource lives (its
endpoint) and whom it belongs to (its ``berth.owner`` label, when it has one). A role grants each of its
permissions with a reach: on every resource, or only on the holder's own ones; so a role that may act on its own
containers only, or an operator on one endpoint, is a row in :data:`ROLE_GRANTS`, not a change in every caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.errors import clip

LOCAL_ENDPOINT = 'local'  # the engine of DOCKER_HOST (or the local socket); every resource lives on an endpoint
OWNER_LABEL = 'berth.owner'  # the stable identity of whoever owns a container or volume


class Role(StrEnum):
    VIEWER = 'viewer'
    DEVELOPER = 'developer'  # acts on its own things only (its dev environments), sees nothing else
    OPERATOR = 'operator'
    ADMIN = 'admin'


class Permission(StrEnum):
    CONTAINER_READ = 'container.read'  # list and inspect containers, see environment variable names
    CONTAINER_LOGS = 'container.logs'  # follow and download logs
    CONTAINER_ENV = 'container.env'  # see environment values (secret-looking ones masked)
    CONTAINER_SECRETS = 'container.secrets'  # reveal the masked values (audited)
    CONTAINER_LIFECYCLE = 'container.lifecycle'  # start, stop, restart, pause, resume, kill, remove
    CONTAINER_EXEC = 'container.exec'  # a terminal: exec or attach
    CONTAINER_CREATE = 'container.create'  # create and run, with the body policy's ordinary fields
    CONTAINER_BODY_ADMIN = 'container.body.admin'  # privileged, host namespaces, binds, devices…: create or exec
    BERTH_INTERNALS = 'berth.internals'  # Berth's own containers and volumes (core/protection.py)
    IMAGE_READ = 'image.read'
    VOLUME_READ = 'volume.read'
    NETWORK_READ = 'network.read'
    IMAGE_PULL = 'image.pull'
    IMAGE_REMOVE = 'image.remove'
    IMAGE_TAG = 'image.tag'
    IMAGE_PRUNE = 'image.prune'
    REGISTRY_CREDENTIALS = 'registry.credentials'  # forget saved registry credentials
    VOLUME_CREATE = 'volume.create'  # name, driver, labels
    VOLUME_REMOVE = 'volume.remove'
    VOLUME_PRUNE = 'volume.prune'
    VOLUME_DRIVER_OPTIONS = 'volume.driver_options'  # driver options can bind any host path: admins only
    NETWORK_CREATE = 'network.create'  # bridge or internal, subnet / gateway / IP range
    NETWORK_REMOVE = 'network.remove'
    NETWORK_PRUNE = 'network.prune'
    NETWORK_CONNECT = 'network.connect'  # connect and disconnect containers
    ENVIRONMENT_CREATE = 'environment.create'  # a dev environment from a template, owned by whoever creates it
    ENVIRONMENT_DELETE = 'environment.delete'  # remove an environment (and, if asked, its volumes)
    ENVIRONMENT_ASSIGN = 'environment.assign'  # hand an environment to another person
    TEMPLATES_MANAGE = 'templates.manage'  # create, edit and delete environment templates
    QUOTAS_MANAGE = 'quotas.manage'  # set the environment quotas of roles, groups and accounts
    SANDBOX_RUN = 'sandbox.run'  # run a script in a throwaway, locked-down container (and cancel that run)
    SANDBOX_READ = 'sandbox.read'  # see a run: its script, input, output and result (a read-only link)
    RUNTIMES_MANAGE = 'runtimes.manage'  # create, edit and delete the runtimes scripts run in
    STACK_READ = 'stack.read'  # compose stacks: their files (secret-looking .env values masked), versions, services
    STACK_DEPLOY = 'stack.deploy'  # write, deploy, pull, update, roll back and adopt stacks
    STACK_LIFECYCLE = 'stack.lifecycle'  # stop, start, restart and take down stacks
    JOB_READ = 'job.read'
    RECORDING_READ = 'recording.read'  # replay and download recorded terminal sessions
    JOB_CANCEL = 'job.cancel'
    USERS_MANAGE = 'users.manage'
    ENDPOINTS_MANAGE = 'endpoints.manage'  # add, change and remove Docker hosts (their certificates give root there)
    AUDIT_READ = 'audit.read'


class Reach(StrEnum):
    ANY = 'any'  # every resource in the role's endpoints
    OWN = 'own'  # only resources whose owner is the identity


_VIEWER = {
    Permission.CONTAINER_READ,
    Permission.CONTAINER_LOGS,
    Permission.IMAGE_READ,
    Permission.VOLUME_READ,
    Permission.NETWORK_READ,
    Permission.JOB_READ,
    Permission.SANDBOX_READ,
    Permission.STACK_READ,
}
_OPERATOR = _VIEWER | {
    Permission.CONTAINER_ENV,
    Permission.CONTAINER_SECRETS,
    Permission.CONTAINER_LIFECYCLE,
    Permission.CONTAINER_EXEC,
    Permission.CONTAINER_CREATE,
    Permission.IMAGE_PULL,
    Permission.IMAGE_REMOVE,
    Permission.IMAGE_TAG,
    Permission.IMAGE_PRUNE,
    Permission.REGISTRY_CREDENTIALS,
    Permission.VOLUME_CREATE,
    Permission.VOLUME_REMOVE,
    Permission.VOLUME_PRUNE,
    Permission.NETWORK_CREATE,
    Permission.NETWORK_REMOVE,
    Permission.NETWORK_PRUNE,
    Permission.NETWORK_CONNECT,
    Permission.JOB_CANCEL,
    Permission.ENVIRONMENT_CREATE,
    Permission.ENVIRONMENT_DELETE,
    Permission.SANDBOX_RUN,
    Permission.STACK_DEPLOY,
    Permission.STACK_LIFECYCLE,
}

# What a developer may do on the containers (its environments) and recordings that carry its own berth.owner, and on
# nothing else; creating an environment is asked for on the developer's own scope.
_DEVELOPER_OWN = {
    Permission.CONTAINER_READ,
    Permission.CONTAINER_LOGS,
    Permission.CONTAINER_LIFECYCLE,
    Permission.CONTAINER_EXEC,
    Permission.RECORDING_READ,
    Permission.JOB_READ,  # the jobs on its own things
    Permission.ENVIRONMENT_CREATE,
    Permission.ENVIRONMENT_DELETE,
    Permission.SANDBOX_RUN,  # a run's scope is its owner's: a developer's runs are its own
    Permission.SANDBOX_READ,
}

# The one table of who may do what. Order matters only for sentences: the first role granting a permission is the
# one a refusal names ("… needs the operator role").
ROLE_GRANTS: Mapping[Role, Mapping[Permission, Reach]] = {
    Role.VIEWER: dict.fromkeys(_VIEWER, Reach.ANY),
    Role.DEVELOPER: dict.fromkeys(_DEVELOPER_OWN, Reach.OWN),
    Role.OPERATOR: {**dict.fromkeys(_OPERATOR, Reach.ANY), Permission.RECORDING_READ: Reach.OWN},
    Role.ADMIN: dict.fromkeys(Permission, Reach.ANY),
}
ROLES: tuple[str, ...] = tuple(role.value for role in ROLE_GRANTS)


class Forbidden(Exception):
    """Raised when the signed-in user may not do the action; the message is a sentence for them."""


@dataclass(kw_only=True, slots=True, frozen=True)
class Scope:
    """Where a resource lives and whom it belongs to."""

    endpoint: str = LOCAL_ENDPOINT
    owner: str = ''  # the berth.owner label's value; '' for resources nobody owns

    @classmethod
    def of(cls, labels: Mapping[str, str] | None, endpoint: str = LOCAL_ENDPOINT) -> Scope:
        return cls(endpoint=endpoint, owner=str((labels or {}).get(OWNER_LABEL, '')))


ANYWHERE = Scope()


@dataclass(kw_only=True, slots=True, frozen=True)
class Identity:
    username: str
    role: str
    address: str = ''
    subject: str = ''  # the stable identity owned resources carry (defaults to the username)
    groups: tuple[str, ...] = ()  # the SSO groups of the last sign-in (templates may be limited to some)
    # (endpoint, role there) where a per-host role replaces ``role`` ('' = none there): core/endpoint_roles.py
    endpoint_roles: tuple[tuple[str, str], ...] = ()

    @property
    def owner_id(self) -> str:
        return self.subject or self.username

    def role_on(self, endpoint: str) -> str:
        """The role that counts on ``endpoint``: a per-host role where one is set, else :attr:`role`."""
        for listed, role in self.endpoint_roles:
            if listed == endpoint:
                return role
        return self.role

    def can(self, permission: Permission, scope: Scope = ANYWHERE) -> bool:
        return role_allows(self.role_on(scope.endpoint), permission, scope, owner_id=self.owner_id)

    def holds(self, permission: Permission) -> bool:
        """Whether a role of the identity (its own, or one it has on some host) grants ``permission`` at all, if only
        on its own resources: enough to open a page that then shows (and acts on) only what :meth:`can` allows, one
        resource at a time."""
        roles = {self.role, *(role for _, role in self.endpoint_roles)}
        return any(role in ROLES and permission in ROLE_GRANTS[Role(role)] for role in roles)


def role_allows(role: str | None, permission: Permission, scope: Scope = ANYWHERE, *, owner_id: str = '') -> bool:
    """Whether ``role`` grants ``permission`` on a resource in ``scope`` (for ``owner_id``'s own resources)."""
    if role not in ROLES:
        return False
    grants = ROLE_GRANTS[Role(role)]
    reach = grants.get(permission)
    if reach is None:
        return False
    return reach is Reach.ANY or bool(owner_id and scope.owner == owner_id)


def lowest_role(permission: Permission) -> str:
    """The first role in the table that grants ``permission`` everywhere: the one a refusal sentence names."""
    for role, grants in ROLE_GRANTS.items():
        if grants.get(permission) is Reach.ANY:
            return role.value
    return Role.ADMIN.value


def require(identity: Identity | None, permission: Permission, what: str, scope: Scope | None = ANYWHERE) -> Identity:
    """Returns the identity when it holds ``permission`` on ``scope``; raises :class:`Forbidden` with a sentence.

    ``scope=None`` asks only whether the role grants the permission at all, if only on the identity's own
    resources (:meth:`Identity.holds`): for a page that then filters what it shows."""
    if identity is None:
        raise Forbidden(f'sign in to {what}')
    if identity.role not in ROLES:
        raise Forbidden(f'unknown role: cannot {what}')
    if not (identity.holds(permission) if scope is None else identity.can(permission, scope)):
        role = identity.role if scope is None else identity.role_on(scope.endpoint)
        where = (
            ''
            if role == identity.role and (scope is None or scope.endpoint == LOCAL_ENDPOINT)
            else (f' on host "{clip(scope.endpoint)}"' if scope is not None else '')
        )
        if not role:
            raise Forbidden(f'{identity.username} has no role{where}: {what} needs the {lowest_role(permission)} role')
        article = 'an' if role[:1] in 'aeiou' else 'a'
        raise Forbidden(
            f'{identity.username} is {article} {role}{where}: {what} needs the {lowest_role(permission)} role'
        )
    return identity
