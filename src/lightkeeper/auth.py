"""Who may do what: roles, principals and the one permission table.

With auth off (the embedded single-user default) the local user acts as ``admin``;
the audit trail still records the OS user name. With auth on, every caller presents an
API token whose role is checked here, by the CLI and by the HTTP API alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from lightkeeper.errors import InvalidInput, PermissionDenied

Role = Literal["data-scientist", "operator", "owner", "admin", "predict"]
ROLES: tuple[Role, ...] = get_args(Role)
#: People's roles; ``predict`` is a client of the model server and reads nothing else.
PEOPLE: frozenset[Role] = frozenset({"data-scientist", "operator", "owner", "admin"})

Action = Literal[
    "read",
    "model.train",
    "model.register",
    "gold.add",
    "gold.approve",
    "gate.run",
    "gate.accept",
    "gate.override",
    "deploy.create",
    "deploy.release",
    "deploy.rollback",
    "batch.run",
    "monitor.run",
    "alarm.manage",
    "alarm.deliver",
    "tokens.manage",
    "serving.predict",
    "serving.metrics",
]

#: The permission table: action -> roles allowed (admin may do everything).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    "read": PEOPLE,
    "model.train": frozenset({"data-scientist", "admin"}),
    "model.register": frozenset({"data-scientist", "admin"}),
    "gold.add": frozenset({"owner", "data-scientist", "admin"}),
    "gold.approve": frozenset({"owner", "admin"}),
    "gate.run": frozenset({"data-scientist", "operator", "admin"}),
    "gate.accept": frozenset({"operator", "admin"}),
    "gate.override": frozenset({"operator", "admin"}),
    "deploy.create": frozenset({"operator", "admin"}),
    "deploy.release": frozenset({"operator", "admin"}),
    "deploy.rollback": frozenset({"operator", "admin"}),
    "batch.run": frozenset({"operator", "admin"}),
    "monitor.run": frozenset({"data-scientist", "operator", "admin"}),
    "alarm.manage": frozenset({"data-scientist", "operator", "admin"}),
    "alarm.deliver": frozenset({"operator", "admin"}),
    "tokens.manage": frozenset({"admin"}),
    # the model server, with auth on: /predict and /invocations, /metrics
    "serving.predict": frozenset({"predict", "operator", "admin"}),
    "serving.metrics": frozenset({"predict", "operator", "admin"}),
}


@dataclass(frozen=True)
class Principal:
    """Someone acting on the workspace: a name for the audit trail and a role."""

    name: str
    role: Role

    def can(self, action: Action) -> bool:
        """Whether this principal's role allows the action."""
        return self.role in PERMISSIONS[action]

    def require(self, action: Action) -> None:
        """Raise :class:`PermissionDenied` unless the role allows the action."""
        if not self.can(action):
            allowed = ", ".join(sorted(PERMISSIONS[action]))
            raise PermissionDenied(
                f"{self.name} acts as {self.role}, who may not {action.replace('.', ' ')}",
                hint=f"this needs one of the roles: {allowed}",
            )


#: The workspace's default caller, for actions where the caller names nobody (``by=None``):
#: the ``token`` setting's owner, or the local user as admin with auth off. Each feature
#: that acts receives one, so ``lk.gate.run(model, 3)`` works from a notebook as it does
#: from the command line.
Whoami = Callable[[], Principal]


def parse_role(text: str) -> Role:
    """A role from user input, with a clear error listing the roles."""
    if text not in ROLES:
        raise InvalidInput(f"{text!r} is not a role", hint=f"use one of: {', '.join(ROLES)}")
    return text
