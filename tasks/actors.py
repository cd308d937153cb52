"""Every actor, declared on a given broker: the panel declares them on its broker to send, a worker to run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dramatiq

from core.commands.networks import NETWORK_OPERATIONS
from core.container_actions import ContainerAction
from core.environments.environment import ENVIRONMENT_OPERATIONS
from core.sandbox.runs import KIND as SANDBOX_RUN
from core.stacks.actions import KINDS as STACK_KINDS
from core.updates.check import KIND as UPDATE_CHECK

from . import containers, environments, images, networks, sandbox, stacks, updates, volumes
from .broker import queue_for

Actor = dramatiq.Actor[..., None]


def _sender(actor: Actor, per_endpoint: bool) -> Callable[..., object]:
    """The actor's send; with ``per_endpoint``, onto the queue of the job's endpoint (declared on first use)."""
    if not per_endpoint:
        return actor.send

    def send(job: dict[str, object], *arguments: object) -> object:
        queue = queue_for(actor.queue_name, str(job.get('endpoint') or ''))
        actor.broker.declare_queue(queue)
        return actor.broker.enqueue(actor.message(job, *arguments).copy(queue_name=queue))

    return send


@dataclass(kw_only=True, slots=True, frozen=True)
class Actors:
    container_action: Actor
    pull_image: Actor
    image_operation: Actor
    create_container: Actor
    volume_operation: Actor
    network_operation: Actor
    environment_operation: Actor
    sandbox_run: Actor
    check_image_updates: Actor
    stack_operation: Actor

    def senders(self, *, per_endpoint: bool = False) -> dict[str, Callable[..., object]]:
        """Kind of job (= its audit action, as ``Commands.dispatch`` names it) → the actor's send; ``per_endpoint``
        (Redis) puts each job on its endpoint's queue (``tasks.broker.queue_for``)."""

        def send(actor: Actor) -> Callable[..., object]:
            return _sender(actor, per_endpoint)

        return {
            **{action.kind: send(self.container_action) for action in ContainerAction},
            'image.pull': send(self.pull_image),
            **{f'image.{operation}': send(self.image_operation) for operation in ('remove', 'tag', 'prune')},
            'container.create': send(self.create_container),
            **{f'volume.{operation}': send(self.volume_operation) for operation in ('create', 'remove', 'prune')},
            **{f'network.{operation}': send(self.network_operation) for operation in NETWORK_OPERATIONS},
            **{f'environment.{operation}': send(self.environment_operation) for operation in ENVIRONMENT_OPERATIONS},
            SANDBOX_RUN: send(self.sandbox_run),
            UPDATE_CHECK: send(self.check_image_updates),
            **dict.fromkeys(STACK_KINDS, send(self.stack_operation)),
        }


def declare(broker: dramatiq.Broker) -> Actors:
    return Actors(
        container_action=containers.container_action.declare(broker),
        pull_image=images.pull_image.declare(broker),
        image_operation=images.image_operation.declare(broker),
        create_container=images.create_container.declare(broker),
        volume_operation=volumes.volume_operation.declare(broker),
        network_operation=networks.network_operation.declare(broker),
        environment_operation=environments.environment_operation.declare(broker),
        sandbox_run=sandbox.sandbox_run.declare(broker),
        check_image_updates=updates.check_image_updates.declare(broker),
        stack_operation=stacks.stack_operation.declare(broker),
    )
