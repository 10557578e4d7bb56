"""Which champions a gate run compares the candidate with, and which comparison decides.

One model can run in several deployments, each with its own champion: the desired state
in the ops database (MLflow's per-deployment aliases mirror it). A gate run meant for one
deployment (``--deployment``) compares with that deployment's champion; otherwise with
the champion of every deployment of the model, and the strictest comparison decides: a
failure fails the check, else the comparison with the lowest lower bound is the one shown.
Deployments that share a champion share one comparison. The run records the deployments
and champions it saw, so a later decision can ask whether it compared the version with a
deployment's current champion (:meth:`lightkeeper.store.gate.GateRun.compared_with`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lightkeeper.errors import InvalidInput
from lightkeeper.gate.checks import Check, skipped
from lightkeeper.store.deploy import DeployStore


@dataclass(frozen=True)
class Target:
    """A deployment the version may go to, and its champion when the gate ran."""

    deployment: str
    champion: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.deployment, "champion": self.champion}


@dataclass
class Compared:
    """The comparison with one champion (shared by the deployments it serves)."""

    version: int
    deployments: list[str]
    check: Check
    data: dict[str, Any] | None = None  # the interval and decision; None when not compared
    metrics: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # load and predict times, errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the gate run's ``champions``."""
        return {
            "version": self.version,
            "deployments": self.deployments,
            **self.extra,
            "compared": self.data is not None,
            "status": self.check.status,
            "metrics": self.metrics,
            "comparison": self.data,
        }


def targets(store: DeployStore, model: str, deployment: str | None) -> list[Target]:
    """The deployments to compare for: the one named, else every deployment of ``model``.

    Raises:
        DeploymentNotFound: the named deployment does not exist.
        InvalidInput: the named deployment runs another model.
    """
    if deployment is not None:
        found = store.get(deployment)
        if found.model != model:
            raise InvalidInput(
                f"deployment {deployment!r} runs model {found.model!r}, not {model!r}",
                hint="name a deployment of this model (lightkeeper deployments list), or "
                "leave out --deployment to compare with every deployment's champion",
            )
        names = [found.name]
    else:
        names = [d.name for d in store.all() if d.model == model]
    out = []
    for name in names:
        newest = store.history(name, limit=1)
        out.append(Target(name, newest[0].champion if newest else None))
    return out


def champions(found: list[Target], candidate: int) -> dict[int, list[str]]:
    """Each distinct champion other than the candidate, with the deployments it serves."""
    out: dict[int, list[str]] = {}
    for target in found:
        if target.champion is not None and target.champion != candidate:
            out.setdefault(target.champion, []).append(target.deployment)
    return dict(sorted(out.items()))


def nothing_to_compare(name: str, model: str, found: list[Target], candidate: int) -> Check:
    """The skipped comparison when no deployment has another version as champion."""
    own = [t.deployment for t in found if t.champion == candidate]
    if own:
        message = f"version {candidate} is itself the champion of {', '.join(own)}"
        hint = "nothing to compare against: it serves there already"
    elif found:
        names = ", ".join(t.deployment for t in found)
        message = f"no champion yet in {names}: nothing to compare against"
        hint = "the first release of a deployment makes its champion"
    else:
        message = f"{model} has no deployment yet, so no champion to compare against"
        hint = "the first released version becomes the champion"
    return skipped(name, "comparison", message, hint)


def strictest(compared: list[Compared]) -> Compared:
    """The comparison that decides: a failed one (lowest bound first), else the closest."""

    def low(item: Compared) -> float:
        value = (item.data or {}).get("low")
        return float(value) if isinstance(value, int | float) else -math.inf

    failing = [c for c in compared if c.check.status in ("failed", "error")]
    return min(failing or compared, key=low)


def decisive_check(compared: list[Compared]) -> Check:
    """One ``non-inferiority`` check for all champions: the strictest one's, naming the rest.

    Its duration is the time of every comparison; its details list each champion's result.
    """
    decisive = strictest(compared)
    check = replace(
        decisive.check,
        details={
            **decisive.check.details,
            "champions": [_short(c) for c in compared],
        },
        duration_s=sum(c.check.duration_s for c in compared),
    )
    where = ", ".join(decisive.deployments)
    check.message = f"champion v{decisive.version} ({where}): {decisive.check.message}"
    others = [c for c in compared if c is not decisive]
    if others:
        check.message += "; also compared with " + ", ".join(
            f"v{c.version} ({', '.join(c.deployments)}): {c.check.status}" for c in others
        )
    return check


def _short(item: Compared) -> dict[str, Any]:
    data = item.data or {}
    return {
        "version": item.version,
        "deployments": item.deployments,
        "status": item.check.status,
        "improvement": data.get("improvement"),
        "low": data.get("low"),
        "high": data.get("high"),
    }


def describe_champions(run: Mapping[str, Any]) -> str:
    """Which champions a stored run compared with, per deployment, in one line of words."""
    described, listed = [], set()
    for entry in _mappings(run.get("champions")):
        names = [str(d) for d in entry.get("deployments") or []]
        listed.update(names)
        text = f"champion v{entry.get('version')} of {', '.join(names)}"
        if not entry.get("compared"):
            text += f" (not compared: {entry.get('error') or entry.get('status') or 'unknown'})"
        described.append(text)
    for target in _mappings(run.get("deployments")):
        name, champion = target.get("name"), target.get("champion")
        if name in listed:
            continue
        if champion is None:
            described.append(f"{name}: no champion yet")
        elif champion == run.get("version"):
            described.append(f"{name}: this version is its champion")
        else:
            described.append(f"{name}: champion v{champion} not compared")
    return "; ".join(described) or "no champion: the model has no deployment"


def _mappings(value: object) -> list[Mapping[str, Any]]:
    """The mappings in a stored list (a report renders whatever a run holds)."""
    items = value if isinstance(value, list | tuple) else []
    return [item for item in items if isinstance(item, Mapping)]
