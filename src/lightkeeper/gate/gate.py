"""The acceptance gate as one feature: run it, hand a version over, and the release rule."""

from __future__ import annotations

from collections.abc import Callable

from lightkeeper.auth import Principal, Whoami
from lightkeeper.gate.runner import GateContext, run_gate
from lightkeeper.gate.signoff import sign_off
from lightkeeper.names import check_version
from lightkeeper.store.gate import GateRun, Signoff


class Gate:
    """Run the gate on versions, record operators' hand-over decisions, and say whether a
    version may go into production."""

    def __init__(self, context: GateContext, *, whoami: Whoami) -> None:
        self._ctx = context
        self._whoami = whoami

    def run(
        self,
        model: str,
        version: int | str,
        *,
        deployment: str | None = None,
        by: Principal | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> GateRun:
        """Evaluate a version and store the run (see :func:`~lightkeeper.gate.runner.run_gate`)."""
        by = by or self._whoami()
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
        by: Principal | None = None,
    ) -> GateRun:
        """Hand-over: accept the newest run of a version (or override a failed one)."""
        by = by or self._whoami()
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

    def runs(
        self, *, model: str | None = None, version: int | None = None, limit: int = 50
    ) -> list[GateRun]:
        """Gate runs, newest first."""
        return self._ctx.gates.list(model=model, version=version, limit=limit)

    def get(self, run_id: int) -> GateRun:
        """One gate run (:class:`~lightkeeper.errors.GateRunNotFound` if none)."""
        return self._ctx.gates.get(run_id)

    def latest(self, model: str, version: int) -> GateRun:
        """The newest gate run of a version."""
        return self._ctx.gates.latest(model, version)
