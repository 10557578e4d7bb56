"""The acceptance gate as one feature: run it, hand a version over, and the release rule."""

from __future__ import annotations

from collections.abc import Callable

from lightkeeper.auth import Principal
from lightkeeper.gate.runner import GateContext, run_gate
from lightkeeper.gate.signoff import sign_off
from lightkeeper.names import check_version
from lightkeeper.store.gate import GateRun, Signoff


class Gate:
    """Run the gate on versions, record operators' hand-over decisions, and say whether a
    version may go into production."""

    def __init__(self, context: GateContext) -> None:
        self._ctx = context

    def run(
        self,
        model: str,
        version: int | str,
        *,
        deployment: str | None = None,
        by: Principal,
        on_step: Callable[[str], None] | None = None,
    ) -> GateRun:
        """Evaluate a version and store the run (see :func:`~lightkeeper.gate.runner.run_gate`)."""
        by.require("gate.run")
        check_version(version)
        return run_gate(
            self._ctx, model, version, actor=by.name, deployment=deployment, on_step=on_step
        )

    def accept(
        self,
        model: str,
        version: int | str,
        *,
        override: bool = False,
        reason: str = "",
        by: Principal,
    ) -> GateRun:
        """Hand-over: accept the newest run of a version (or override a failed one)."""
        number = self._ctx.registry.resolve_version(model, check_version(version))
        return sign_off(
            self._ctx.gates,
            self._ctx.bus,
            model,
            number,
            principal=by,
            override=override,
            reason=reason,
        )

    def require_accepted(self, model: str, version: int | str) -> Signoff:
        """The release rule: the version's accepted (or overridden) sign-off, or
        :class:`~lightkeeper.errors.GateNotAccepted`."""
        number = self._ctx.registry.resolve_version(model, check_version(version))
        return self._ctx.gates.accepted(model, number)
