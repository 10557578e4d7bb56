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
    the ``outcome``, and a short ``reason`` a person can read.

    ``key`` is what stays the same while the details of the reason change round after
    round (``wait`` while a canary is observed: "observing 12/200 predictions, 31/600
    s"). The record counts repeats of the same outcome and key on one row, showing the
    newest reason; without a key, the reason itself is the key.
    """

    subject: str
    outcome: Outcome
    reason: str = ""
    key: str | None = None

    @property
    def same_as(self) -> str:
        """What a repeat must share with this decision to be counted with it."""
        return self.key if self.key is not None else self.reason

    @classmethod
    def ran(cls, subject: str, reason: str = "", *, key: str | None = None) -> Decision:
        """Work was done (``reason`` says what)."""
        return cls(subject, "ran", reason, key)

    @classmethod
    def skipped(cls, subject: str, reason: str, *, key: str | None = None) -> Decision:
        """Nothing was done, and why."""
        return cls(subject, "skipped", reason, key)

    @classmethod
    def failed(cls, subject: str, reason: str, *, key: str | None = None) -> Decision:
        """The work was tried and failed (``reason``: the error)."""
        return cls(subject, "failed", reason, key)
