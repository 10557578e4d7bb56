"""What one round of background work decided, for the record.

Every control-plane loop (rollout controller, watchdog, schedules, dispatcher, jobs)
returns its decisions from each round: what ran, what was skipped and why, what failed.
The control plane records them (``lightkeeper loops``), so "why did nothing happen?"
has an answer. Features build decisions; only the control plane stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ran", "skipped", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("ran", "skipped", "failed")


@dataclass(frozen=True)
class Decision:
    """One decision of a round: about ``subject`` (a deployment, an alarm delivery...),
    the ``outcome``, and a short ``reason`` a person can read."""

    subject: str
    outcome: Outcome
    reason: str = ""

    @classmethod
    def ran(cls, subject: str, reason: str = "") -> Decision:
        """Work was done (``reason`` says what)."""
        return cls(subject, "ran", reason)

    @classmethod
    def skipped(cls, subject: str, reason: str) -> Decision:
        """Nothing was done, and why."""
        return cls(subject, "skipped", reason)

    @classmethod
    def failed(cls, subject: str, reason: str) -> Decision:
        """The work was tried and failed (``reason``: the error)."""
        return cls(subject, "failed", reason)
