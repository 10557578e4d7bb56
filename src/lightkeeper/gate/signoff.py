"""The hand-over: an operator accepts a passed gate run, or overrides a failed one with a reason.

:func:`require_accepted` is the one rule the release command (and anything else that puts
a version into production) calls.
"""

from __future__ import annotations

from lightkeeper.auth import Principal
from lightkeeper.errors import GateNotAccepted, GateRunNotFound, GateSignoffRefused
from lightkeeper.events import EventBus, GateSignedOff
from lightkeeper.store.gate import GateRun, GateStore, Signoff


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


def require_accepted(runs: GateStore, model: str, version: int) -> Signoff:
    """The sign-off that allows a version into production, or :class:`GateNotAccepted`.

    Only the newest gate run counts: a later failed run (say, on a corrected gold set)
    withdraws an earlier acceptance until it is accepted or overridden in turn.
    """
    hint = (
        f"run `lightkeeper gate run {model} {version}`, then an operator runs "
        f"`lightkeeper gate accept {model} {version}`"
    )
    try:
        latest = runs.latest(model, version)
    except GateRunNotFound:
        raise GateNotAccepted(f"{model} version {version} has no gate run", hint=hint) from None
    if latest.signoff is None:
        raise GateNotAccepted(
            f"the newest gate run ({latest.id}, {latest.verdict}) of {model} version {version} "
            "is not accepted",
            hint=hint,
        )
    return latest.signoff
