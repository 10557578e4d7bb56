"""The hand-over: an operator accepts a passed gate run, or overrides a failed one with a reason.

The rule a release checks, :meth:`~lightkeeper.store.gate.GateStore.accepted`, lives with
the gate runs it reads, so deploying needs no part of the gate.
"""

from __future__ import annotations

from lightkeeper.auth import Principal
from lightkeeper.errors import GateSignoffRefused
from lightkeeper.events import EventBus, GateSignedOff
from lightkeeper.store.gate import GateRun, GateStore


def sign_off(
    runs: GateStore,
    bus: EventBus,
    model: str,
    version: int,
    *,
    principal: Principal,
    override: bool = False,
    reason: str = "",
) -> GateRun:
    """Accept the newest gate run of a version (or override it when it failed)."""
    run = runs.latest(model, version)
    reason = reason.strip()
    if run.verdict == "passed":
        if override:
            raise GateSignoffRefused(
                f"gate run {run.id} of {model} version {version} passed; there is nothing to "
                "override",
                hint=f"accept it without --override: lightkeeper gate accept {model} {version}",
            )
        principal.require("gate.accept")
        decision = "accepted"
    else:
        if not override:
            failed = [
                c["name"]
                for c in run.result.get("checks", [])
                if c["status"] != "passed" and c["status"] != "skipped"
            ]
            raise GateSignoffRefused(
                f"gate run {run.id} of {model} version {version} failed "
                f"({', '.join(failed) or 'see the report'}), so it cannot simply be accepted",
                hint="fix the model and run the gate again, or an operator overrides with "
                f'lightkeeper gate accept {model} {version} --override --reason "..."',
            )
        principal.require("gate.override")
        if not reason:
            raise GateSignoffRefused(
                "an override needs a reason for the audit trail",
                hint='add --reason "why this version may go to production despite the failed gate"',
            )
        decision = "overridden"
    if run.signoff is not None and run.signoff.decision == decision:
        return run
    runs.add_signoff(
        run, decision=decision, actor=principal.name, role=principal.role, reason=reason
    )
    bus.publish(
        GateSignedOff(
            actor=principal.name,
            reason=reason,
            model=model,
            version=version,
            gate_run_id=run.id,
            decision=decision,
            role=principal.role,
        )
    )
    return runs.get(run.id)
