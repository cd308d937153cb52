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

Actor = dramatiq.Actor[..., None]


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

    def senders(self) -> dict[str, Callable[..., object]]:
        """Kind of job (= its audit action, as ``Commands.dispatch`` names it) → the actor's send."""
        return {
            **{action.kind: self.container_action.send for action in ContainerAction},
            'image.pull': self.pull_image.send,
            **{f'image.{operation}': self.image_operation.send for operation in ('remove', 'tag', 'prune')},
            'container.create': self.create_container.send,
            **{f'volume.{operation}': self.volume_operation.send for operation in ('create', 'remove', 'prune')},
            **{f'network.{operation}': self.network_operation.send for operation in NETWORK_OPERATIONS},
            **{f'environment.{operation}': self.environment_operation.send for operation in ENVIRONMENT_OPERATIONS},
            SANDBOX_RUN: self.sandbox_run.send,
            UPDATE_CHECK: self.check_image_updates.send,
            **dict.fromkeys(STACK_KINDS, self.stack_operation.send),
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
