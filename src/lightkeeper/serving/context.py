"""What a model server receives from the workspace, and what runs beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lightkeeper.clock import Clock
    from lightkeeper.events import EventBus
    from lightkeeper.logstore import LogStore
    from lightkeeper.registry import Registry
    from lightkeeper.settings import Settings
    from lightkeeper.store.deploy import DeployStore
    from lightkeeper.store.gold import GoldStore
    from lightkeeper.store.signals import SignalStore
    from lightkeeper.store.tokens import TokenStore


@dataclass(frozen=True)
class ServingContext:
    """What a model server needs from the workspace."""

    deployments: DeployStore
    predictions: LogStore
    signals: SignalStore
    tokens: TokenStore
    gold: GoldStore
    registry: Registry
    bus: EventBus
    clock: Clock
    settings: Settings


class Loop(Protocol):
    """Background work a server runs beside itself, started and stopped with it."""

    def start(self) -> None:
        """Start working (in a thread of its own)."""

    def stop(self) -> None:
        """Stop; work under way finishes."""
