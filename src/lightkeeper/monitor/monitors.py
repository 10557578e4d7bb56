"""Monitors: checks of a deployment over a window of its prediction logs, stored per window.

The drift monitor streams the window's answered rows (online requests, and the rows a
batch run logs) in chunks into a :class:`~lightkeeper.monitor.drift.DriftWindow` against
the champion's reference profile, so its memory does not grow with the window. The model
output is compared with the profile of the version's own predictions on its training
rows (or, for models registered without one, the training labels), per version served.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lightkeeper.clock import parse_duration
from lightkeeper.errors import InvalidInput, ReleaseRefused
from lightkeeper.events import DriftChecked
from lightkeeper.monitor.drift import DriftWindow
from lightkeeper.profile import Profile

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.auth import Principal, Whoami
    from lightkeeper.clock import Clock
    from lightkeeper.events import EventBus
    from lightkeeper.logstore import LogStore
    from lightkeeper.manifest import Manifest
    from lightkeeper.registry import Registry
    from lightkeeper.store.deploy import Deployment, DeployStore
    from lightkeeper.store.monitors import MonitorResult, MonitorStore

log = logging.getLogger(__name__)

OUTPUT = "prediction"  # the model output's name in its profile and in reports


@dataclass(frozen=True)
class Window:
    """A time window ``[start, end)``, with the text it was given as."""

    start: datetime
    end: datetime
    text: str

    @classmethod
    def ending(cls, end: datetime, text: str) -> Window:
        """The window of length ``text`` (``"1d"``) that ends at ``end``.

        Raises:
            InvalidInput: ``text`` is not a duration, or ``end`` has no time zone.
        """
        try:
            length = parse_duration(text)
        except ValueError as exc:
            raise InvalidInput(str(exc), hint="--window 1d, --window 6h, --window 2w") from None
        if end.tzinfo is None:
            raise InvalidInput(
                f"the window end {end.isoformat()} has no time zone",
                hint="give it in UTC, e.g. 2026-11-27T06:00:00+00:00",
            )
        end = end.astimezone(UTC)  # SQLite compares wall times: every bound in UTC
        return cls(start=end - length, end=end, text=text)


class DriftMonitor:
    """Check, store and announce a deployment's drift over one window."""

    def __init__(
        self,
        *,
        deployments: DeployStore,
        predictions: LogStore,
        monitors: MonitorStore,
        registry: Registry,
        bus: EventBus,
        clock: Clock,
        whoami: Whoami,
    ) -> None:
        self._whoami = whoami
        self.deployments = deployments
        self.predictions = predictions
        self.monitors = monitors
        self.registry = registry
        self.bus = bus
        self.clock = clock

    def run(
        self,
        deployment: str,
        *,
        window: str | None = None,
        end: datetime | None = None,
        by: Principal | None = None,
    ) -> MonitorResult:
        """Drift of the features and the output over the window ending at ``end`` (now).

        Raises:
            DeploymentNotFound: no such deployment.
            ReleaseRefused: nothing was ever released to it (no reference to compare with).
            InvalidInput: a bad window, or a champion version without a reference profile.
        """
        by = by or self._whoami()
        by.require("monitor.run")
        target, version, manifest = champion(
            self.deployments, self.registry, deployment, "no reference to compare with"
        )
        span = Window.ending(end or self.clock.now(), window or manifest.monitoring.window)
        profile = _profile(self.registry, target.model, version, manifest)
        features = _watched(profile, manifest)
        outputs = _Outputs(self.registry, target.model, manifest)
        drift = DriftWindow(features)
        rows = 0
        watched = list(features.features)
        for frame in self.predictions.served_frames(
            deployment, start=span.start, end=span.end, features=watched
        ):
            drift.add(frame[watched])
            outputs.add(frame)
            rows += len(frame)
        report = drift.report() if rows else None
        output_results = outputs.results()
        result: dict[str, Any] = {
            "window": span.text,
            "model": target.model,
            "version": version,
            "versions": outputs.rows,
            "features": report.to_dict() if report is not None else None,
            "outputs": output_results,
        }
        drifted = report.drifted if report is not None else []
        output_drifted = [v for v, r in output_results.items() if r.get("drifted")]
        status = "no data" if rows == 0 else ("drift" if drifted or output_drifted else "ok")
        saved = self.monitors.save(
            deployment,
            "drift",
            window_start=span.start,
            window_end=span.end,
            version=version,
            rows=rows,
            status=status,
            value=report.share_drifted if report is not None else None,
            result=result,
            actor=by.name,
        )
        log.info("drift of %s over %s: %s (%d rows)", deployment, span.text, status, rows)
        self.bus.publish(
            DriftChecked(
                actor=by.name,
                deployment=deployment,
                model=target.model,
                version=version,
                result_id=saved.id,
                window=span.text,
                rows=rows,
                status=status,
                share_drifted=saved.value,
                drifted=drifted,
                output_drifted=[int(v) for v in output_drifted],
            )
        )
        return saved


def champion(
    deployments: DeployStore, registry: Registry, deployment: str, lacking: str
) -> tuple[Deployment, int, Manifest]:
    """The deployment, the version it serves as champion, and that version's manifest.

    Raises:
        DeploymentNotFound: no such deployment.
        ReleaseRefused: nothing was released to it (``lacking`` says what that leaves out).
        InvalidInput: the champion has no lightkeeper manifest.
    """
    target = deployments.get(deployment)
    release = deployments.current(deployment)
    if release is None or release.champion is None:
        raise ReleaseRefused(
            f"{deployment} has no release yet, so there is {lacking}",
            hint=f'lightkeeper release {deployment} VERSION --reason "..."',
        )
    return target, release.champion, _manifest(registry, target.model, release.champion)


def _manifest(registry: Registry, model: str, version: int) -> Manifest:
    manifest = registry.manifest(model, version)
    if manifest is None:
        raise InvalidInput(
            f"{model} version {version} has no lightkeeper manifest",
            hint="register it with lightkeeper train, so its schema and monitoring travel with it",
        )
    return manifest


def _profile(registry: Registry, model: str, version: int, manifest: Manifest) -> Profile:
    data = registry.reference_profile(model, version)
    if data is None:
        raise InvalidInput(
            f"{model} version {version} has no reference profile to compare with",
            hint="versions trained with lightkeeper train have one; retrain it that way",
        )
    profile = Profile.from_dict(data)
    target = manifest.target.name if manifest.target is not None else None
    features = {n: f for n, f in profile.features.items() if n != target}
    return Profile(rows=profile.rows, features=features)


def _watched(profile: Profile, manifest: Manifest) -> Profile:
    chosen = manifest.monitoring.features
    if chosen is None:
        return profile
    unknown = [name for name in chosen if name not in profile.features]
    if unknown:
        raise InvalidInput(
            f"monitoring.features names {', '.join(unknown)}, which the profile lacks",
            hint=f"profiled features: {', '.join(profile.features)}",
        )
    return Profile(rows=profile.rows, features={n: profile.features[n] for n in chosen})


class _Outputs:
    """The model output per version served in the window, against that version's reference."""

    def __init__(self, registry: Registry, model: str, manifest: Manifest) -> None:
        self.registry, self.model, self.manifest = registry, model, manifest
        self.windows: dict[int, DriftWindow | None] = {}
        self.references: dict[int, str | None] = {}
        self.errors: dict[int, str] = {}
        self.rows: dict[str, int] = {}

    def add(self, frame: pd.DataFrame) -> None:
        import pandas as pd

        by_version: dict[int, pd.Series[Any]] = {}
        for version, group in frame.groupby("version", sort=False)["output"]:
            # a one-row output logged as a one-element list: unwrap (numbers need nothing)
            values = group.map(_scalar) if group.dtype == object else group
            by_version[int(version)] = values.reset_index(drop=True)
        for version, values in by_version.items():
            self.rows[str(version)] = self.rows.get(str(version), 0) + len(values)
            if version not in self.windows:
                self.windows[version] = self._window(version)
            window = self.windows[version]
            if window is None:
                continue
            try:
                window.add(pd.DataFrame({OUTPUT: values}))
            except (InvalidInput, TypeError, ValueError) as exc:  # outputs of another shape
                self.windows[version] = None
                self.references[version] = None
                self.errors[version] = f"the outputs cannot be compared: {exc}"

    def _window(self, version: int) -> DriftWindow | None:
        data = self.registry.reference_profile(self.model, version, output=True)
        if data is not None:
            self.references[version] = "predictions on the training rows"
            return DriftWindow(Profile.from_dict(data))
        target = self.manifest.target
        features = self.registry.reference_profile(self.model, version)
        if target is None or features is None or target.name not in features["features"]:
            self.references[version] = None
            return None
        profile = Profile.from_dict(features)
        self.references[version] = "training labels"
        return DriftWindow(
            Profile(rows=profile.rows, features={OUTPUT: profile.features[target.name]})
        )

    def results(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for version, window in sorted(self.windows.items()):
            if window is None:
                out[str(version)] = {"reference": None, "drifted": False}
                if version in self.errors:
                    out[str(version)]["error"] = self.errors[version]
                continue
            [feature] = window.report().features
            out[str(version)] = {"reference": self.references[version], **feature.to_dict()}
        return out


def _scalar(value: Any) -> Any:
    """A logged output as one value: a single-element list (one row's output) unwrapped."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def window_end(text: str | None, now: datetime) -> datetime:
    """``--end`` as a UTC datetime (default: now).

    Raises:
        InvalidInput: not an ISO 8601 date or datetime.
    """
    if text is None:
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--end {text!r} is not an ISO 8601 date or time",
            hint="for example 2026-11-27 or 2026-11-27T06:00:00+00:00",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
