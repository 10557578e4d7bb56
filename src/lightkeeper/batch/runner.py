"""One batch run of a deployment over one partition, from input to published output."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass
from queue import Empty, Full, Queue
from typing import TYPE_CHECKING, Any

import numpy as np

from lightkeeper.batch.checks import check_chunk
from lightkeeper.batch.keys import DuplicateKeys, key_text
from lightkeeper.batch.sinks import Sink, open_sink
from lightkeeper.batch.sources import Source, open_source
from lightkeeper.batch.summary import RowSample, ScoreSummary
from lightkeeper.errors import (
    InvalidInput,
    ReleaseRefused,
    RunInProgress,
    TooManyRejects,
    first_line,
)
from lightkeeper.events import BatchRunFailed, BatchRunFinished
from lightkeeper.experiments import in_holdout
from lightkeeper.heartbeat import HeartbeatSender
from lightkeeper.periodic import Periodic
from lightkeeper.split import buckets

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.auth import Principal, Whoami
    from lightkeeper.clock import Clock
    from lightkeeper.events import EventBus
    from lightkeeper.logstore import LogStore
    from lightkeeper.manifest import BatchInput, BatchOutput, Manifest
    from lightkeeper.predictor import Predictor
    from lightkeeper.registry import Registry
    from lightkeeper.store.batch import BatchRun, BatchRunStore
    from lightkeeper.store.deploy import DeployStore, Release
    from lightkeeper.store.leases import LeaseStore
    from lightkeeper.store.signals import SignalStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0  # a killed run's partition is free again after this long
RENEW_SECONDS = 20.0
PARTITION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]{0,99}")  # safe in paths everywhere
RESERVED = ("prediction", "model_version", "run_id", "partition", "scored_at", "flags")

Progress = Callable[[int, int | None], None]  # rows read so far, rows in the input if known


@dataclass(frozen=True)
class _Arm:
    predictor: Predictor
    features: list[str]
    probabilities: bool


class BatchRunner:
    """Runs batch deployments; see :mod:`lightkeeper.batch`."""

    def __init__(
        self,
        *,
        deployments: DeployStore,
        batch_runs: BatchRunStore,
        leases: LeaseStore,
        predictions: LogStore,
        signals: SignalStore,
        registry: Registry,
        bus: EventBus,
        clock: Clock,
        whoami: Whoami,
    ) -> None:
        self._whoami = whoami
        self.deployments = deployments
        self.run_store = batch_runs
        self.leases = leases
        self.predictions = predictions
        self.signals = signals
        self.registry = registry
        self.bus = bus
        self.clock = clock

    def run(
        self,
        deployment: str,
        *,
        by: Principal | None = None,
        input: BatchInput | None = None,
        output: BatchOutput | None = None,
        partition: str | None = None,
        fresh: bool = False,
        progress: Progress | None = None,
    ) -> BatchRun:
        """Score the input with the deployment's current release and publish the partition.

        Raises:
            RunInProgress: another run of this deployment and partition is running.
            TooManyRejects: more rejected rows than ``batch.max_reject_share``.
            InvalidInput: no input or output, unreadable input, missing columns.
        """
        by = by or self._whoami()
        by.require("batch.run")
        target = self.deployments.get(deployment)
        if target.kind != "batch":
            raise InvalidInput(
                f"{deployment} is an {target.kind} deployment",
                hint=f"create a batch one: lightkeeper deployments create NAME --model "
                f"{target.model} --kind batch",
            )
        release = self.deployments.current(deployment)
        if release is None or release.champion is None:
            raise ReleaseRefused(
                f"{deployment} has no release yet, so there is no version to score with",
                hint=f'lightkeeper release {deployment} VERSION --reason "..."',
            )
        manifest = self._manifest(target.model, release.champion)
        source_spec = input or manifest.batch.input
        sink_spec = output or manifest.batch.output
        if source_spec is None or sink_spec is None:
            missing = "input" if source_spec is None else "output"
            raise InvalidInput(
                f"no {missing} for {deployment}",
                hint=f"pass --{missing}, or set batch.{missing} in the manifest",
            )
        keys = _entity_key(manifest, target.model, release.champion)
        partition = _partition(partition or self.clock.now().date().isoformat())
        with ExitStack() as stack:
            source = open_source(source_spec, order_by=keys)
            stack.callback(source.close)
            where = json.dumps(sink_spec.model_dump(), sort_keys=True)
            stage = hashlib.blake2b(f"{deployment}\0{partition}\0{where}".encode(), digest_size=8)
            sink = open_sink(sink_spec, stage=f"lk_stage_{stage.hexdigest()}")
            stack.callback(sink.close)
            versions = [release.champion]
            if release.strategy == "canary" and release.challenger is not None:
                versions.append(release.challenger)
            probabilities = manifest.batch.probabilities
            arms = {v: self._arm(target.model, v, probabilities) for v in versions}
            fence = stack.enter_context(self._lease(deployment, partition))
            instance_id = fence.holder
            previous = self.run_store.list(deployment, partition=partition, limit=1)
            if previous and previous[0].status == "running":  # its process died: close it
                self.run_store.finish(
                    previous[0].id, "failed", error="interrupted (the process stopped)"
                )
            record = self.run_store.start(
                deployment,
                partition,
                release_id=release.id,
                input=source.description,
                output=sink.description,
                actor=by.name,
                instance_id=instance_id,
            )
            job = _Job(self, record, manifest, release, arms, source, sink, fence, progress)
            heartbeat = HeartbeatSender(
                self.signals,
                self.clock,
                instance_id=instance_id,
                kind="batch",
                subject=deployment,
                payload=job.status,
                cadence=RENEW_SECONDS,
            )
            heartbeat.start()
            stack.callback(heartbeat.stop)
            return job.run(fresh=fresh)

    def runs(
        self, deployment: str, *, partition: str | None = None, limit: int = 50
    ) -> list[BatchRun]:
        """Runs of a batch deployment, newest first."""
        self.deployments.get(deployment)
        return self.run_store.list(deployment, partition=partition, limit=limit)

    @contextmanager
    def _lease(self, deployment: str, partition: str) -> Iterator[_Fence]:
        """One run per deployment and partition: a lease, renewed while the run lives."""
        leases = self.leases
        holder = f"batch-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        name = f"batch:{deployment}:{partition}"
        if not leases.acquire(name, holder, seconds=LEASE_SECONDS):
            current = leases.holder(name)
            if current is not None and _died_here(current):  # killed on this machine
                log.info("%s %s: %s is gone; taking its lease", deployment, partition, current)
                leases.release(name, current)
            if not leases.acquire(name, holder, seconds=LEASE_SECONDS):
                raise RunInProgress(
                    f"a run of {deployment} for partition {partition} is already running "
                    f"({leases.holder(name) or current})",
                    hint=f"wait for it (lightkeeper batch runs {deployment}); a killed run "
                    f"frees the partition after {LEASE_SECONDS:.0f} s",
                )
        fence = _Fence(leases, name, holder)
        renewal = Periodic("lk-batch-lease", RENEW_SECONDS, fence.renew)
        renewal.start()
        try:
            yield fence
        finally:
            renewal.stop()
            leases.release(name, holder)

    def _manifest(self, model: str, version: int) -> Manifest:
        manifest = self.registry.manifest(model, version)
        if manifest is None:
            raise InvalidInput(
                f"{model} version {version} has no lightkeeper manifest",
                hint="register it with lightkeeper train, so its input schema and "
                "entity_key travel with it",
            )
        return manifest

    def _arm(self, model: str, version: int, probabilities: bool) -> _Arm:
        predictor = self.registry.load(model, version)
        manifest = self._manifest(model, version)
        features = predictor.feature_names or manifest.feature_names
        has_proba = predictor.native and hasattr(predictor.model, "predict_proba")
        return _Arm(predictor, features, probabilities and has_proba)


class _Fence:
    """The run's hold on its partition; every write and the publish check it first, so a
    run that lost its lease (stalled past it, and another run took over) stops."""

    def __init__(self, leases: LeaseStore, name: str, holder: str) -> None:
        self.leases = leases
        self.name = name
        self.holder = holder
        self.lost = False

    def renew(self) -> None:
        if not self.leases.acquire(self.name, self.holder, seconds=LEASE_SECONDS):
            self.lost = True

    def check(self, *, renew: bool = False) -> None:
        if renew:
            self.renew()
        if self.lost:
            raise RunInProgress(
                f"this run lost its hold on {self.name} to {self.leases.holder(self.name)}; "
                "it stops without publishing",
                hint="the other run carries on; see lightkeeper batch runs",
            )


def _entity_key(manifest: Manifest, model: str, version: int) -> list[str]:
    keys = manifest.entity_key or []
    if not keys:
        raise InvalidInput(
            f"the manifest of {model} version {version} has no entity_key",
            hint="name the key column(s) in lightkeeper.yaml (entity_key: customer_id): "
            "every output row carries them",
        )
    holdout = manifest.batch.holdout.column if manifest.batch.holdout else None
    clash = [k for k in keys if k in RESERVED or k == holdout]
    if clash:
        raise InvalidInput(
            f"the entity key {clash[0]!r} clashes with an output column",
            hint=f"rename it; the output adds {', '.join(RESERVED)}",
        )
    return keys


def _partition(name: str) -> str:
    if not PARTITION.fullmatch(name):
        raise InvalidInput(
            f"{name!r} is not a usable partition name",
            hint="use letters, digits and - _ . = (for example 2026-11-27), at most 100",
        )
    return name


def _died_here(holder: str) -> bool:
    """Whether ``holder`` (``batch-host-pid-xxxxxx``) was a process on this machine that
    is gone (a pid reused since then only makes us wait for the lease to expire)."""
    prefix, _, rest = holder.rpartition("-")
    prefix, _, pid = prefix.rpartition("-")
    if prefix != f"batch-{socket.gethostname()}" or not pid.isdigit() or not rest:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class _Job:
    """The chunk loop of one run, with its counters."""

    def __init__(
        self,
        runner: BatchRunner,
        run: BatchRun,
        manifest: Manifest,
        release: Release,
        arms: dict[int, _Arm],
        source: Source,
        sink: Sink,
        fence: _Fence,
        progress: Progress | None,
    ) -> None:
        self.run_store = runner.run_store
        self.predictions = runner.predictions
        self.bus = runner.bus
        self.clock = runner.clock
        self.run_record = run
        self.manifest = manifest
        self.config = manifest.batch
        self.release = release
        self.arms = arms
        self.source = source
        self.sink = sink
        self.fence = fence
        self.staged: dict[int, tuple[int, int]] = {}
        self.progress = progress
        self.keys = manifest.entity_key or []
        declared = {f.name for f in manifest.input_schema}
        needed = {name for arm in arms.values() for name in arm.features}
        self.required = sorted(needed - declared)
        target = manifest.target
        self.classification = target is None or target.task == "classification"
        self.positive = target.positive_class if target is not None else None
        self.summary = ScoreSummary(classification=self.classification)
        self.sample = RowSample(self.config.log_rows, seed=run.id)
        features = [f.name for f in manifest.input_schema if f.name in needed]
        self.logged = list(dict.fromkeys([*self.keys, *features, *self.required]))
        self.score_column = self._score_column()
        self.versions: dict[str, int] = {}
        self.rows_in = self.rows_out = self.rows_rejected = self.chunks = 0
        self.total: int | None = None
        self.duplicates: DuplicateKeys | None = None
        self.rejects_kept: str | None = None  # where a failed run's rejects are

    def status(self) -> dict[str, Any]:
        """Heartbeat payload: where the run is."""
        return {
            "run_id": self.run_record.id,
            "partition": self.run_record.partition,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_rejected": self.rows_rejected,
            "total": self.total,
        }

    def run(self, *, fresh: bool) -> BatchRun:
        record = self.run_record
        try:
            self.total = self.source.count()
            self._find_duplicates()
            self._take_over(fresh)
            self._stage_all()
            if self.rows_in == 0:
                raise InvalidInput(
                    f"the input ({self.source.description}) has no rows",
                    hint="an empty input usually means the upstream load has not run; "
                    "nothing was published",
                )
            share = self.rows_rejected / self.rows_in
            if share > self.config.max_reject_share:
                kept = self._keep_rejects()
                raise TooManyRejects(
                    f"{self.rows_rejected:,} of {self.rows_in:,} rows ({share:.2%}) were "
                    f"rejected, more than batch.max_reject_share "
                    f"({self.config.max_reject_share:.2%}); nothing was published; {kept}",
                    hint="the rejects' reasons name the fields and the duplicated keys; fix "
                    "the data and run again",
                )
            self.fence.check(renew=True)
            self.sink.publish(record.partition)
            try:
                self._log_sample()
            except Exception as exc:  # published: the sample is a nice-to-have, never a failure
                log.warning(
                    "%s: the sample of scored rows was not logged: %s", record.deployment, exc
                )
        except BaseException as exc:
            resumable = not isinstance(exc, InvalidInput)
            if not resumable:
                try:
                    self.sink.discard()
                except Exception as cleanup:  # the failure itself matters more
                    log.warning("%s: cannot discard the stage: %s", record.deployment, cleanup)
            message = f"{type(exc).__name__}: {first_line(exc)}"
            self.run_store.finish(
                record.id,
                "failed",
                error=message,
                summary=self._summary(),
                **self._counters(),
            )
            self.bus.publish(
                BatchRunFailed(
                    actor=record.actor,
                    reason=message,
                    deployment=record.deployment,
                    run_id=record.id,
                    partition=record.partition,
                    error=message,
                    resumable=resumable,
                )
            )
            raise
        finished = self.run_store.finish(
            record.id, "succeeded", summary=self._summary(), **self._counters()
        )
        self.bus.publish(
            BatchRunFinished(
                actor=record.actor,
                deployment=record.deployment,
                run_id=record.id,
                partition=record.partition,
                rows_in=self.rows_in,
                rows_out=self.rows_out,
                rows_rejected=self.rows_rejected,
                versions=self.versions,
            )
        )
        return finished

    def _find_duplicates(self) -> None:
        """Entity keys that appear more than once in the input, before any chunk is
        scored: a first pass over the key columns (see :mod:`lightkeeper.batch.keys`)."""
        started = time.perf_counter()
        counts, hashes = self.source.duplicate_keys(self.total)
        self.duplicates = DuplicateKeys(self.keys, self.config.duplicate_keys, counts, hashes)
        if counts:
            log.info(
                "%s %s: %d entity key(s) appear more than once (%d rows; %s), found in %.2f s",
                *(self.run_record.deployment, self.run_record.partition, len(counts)),
                *(sum(counts.values()), self.config.duplicate_keys),
                time.perf_counter() - started,
            )

    def _keep_rejects(self) -> str:
        """Move the staged rejects of a run that fails on them to where users look, apart
        from any published partition; says where (or why they could not be kept)."""
        try:
            self.rejects_kept = self.sink.keep_rejects(self.run_record.id)
        except Exception as exc:  # the failure itself matters more
            log.warning("%s: cannot keep the rejects: %s", self.run_record.deployment, exc)
            return f"the rejected rows could not be kept ({first_line(exc)})"
        return f"the rejected rows are kept in {self.rejects_kept}"

    def _summary(self) -> dict[str, Any]:
        """The score summary, the duplicated keys, and where a failed run's rejects are."""
        summary = self.summary.to_dict()
        if self.duplicates is not None:
            summary["duplicate_keys"] = self.duplicates.to_dict()
        if self.rejects_kept is not None:
            summary["rejects_kept"] = self.rejects_kept
        return summary

    def _take_over(self, fresh: bool) -> None:
        """Open the stage; keep what an interrupted run of exactly this release, input,
        output and chunk size staged (anything else there is cleared)."""
        if fresh:
            self.sink.discard()
        record = self.run_record
        meta = {
            "deployment": record.deployment,
            "partition": record.partition,
            "release_id": self.release.id,
            "chunk_rows": self.config.chunk_rows,
            "input": self.source.description,
            "fingerprint": self.source.fingerprint(),
            "output": self.sink.description,
        }
        self.staged = self.sink.begin(meta)
        if self.staged:
            log.info(
                "%s %s: taking over %d staged chunk(s)",
                *(record.deployment, record.partition, len(self.staged)),
            )
            self._count_staged()

    def _stage_all(self) -> None:
        """Read, score and stage every chunk. Reading the next chunk and writing the last
        one run in threads beside the scoring (Parquet, SQL drivers and tree models let
        go of the GIL), so I/O hides behind the model; about four chunks are in memory at
        most (one read ahead, one waiting, one scored, one being written)."""
        pending: Future[None] | None = None
        reading = closing(_prefetched(self.source.chunks(self.config.chunk_rows)))
        with (
            ThreadPoolExecutor(1, thread_name_prefix="lk-batch-write") as writer,
            reading as chunks,
        ):
            for index, frame in enumerate(chunks):
                self.rows_in += len(frame)
                if index in self.staged:
                    if self.duplicates is not None:  # keep_last counts the rows seen
                        self.duplicates.split(frame)
                    out, rejected = self.staged[index]
                    if out + rejected != len(frame):
                        raise self._changed(
                            f"chunk {index} was staged with {out + rejected:,} rows; "
                            f"the input now has {len(frame):,} there"
                        )
                    self.rows_out += out
                    self.rows_rejected += rejected
                else:
                    output, rejects = self._score(frame)
                    if pending is not None:
                        pending.result()  # the previous chunk is staged (or its error raised)
                    self.fence.check()
                    pending = writer.submit(self.sink.write, index, output, rejects)
                    self.rows_out += len(output)
                    self.rows_rejected += len(rejects)
                    self._add(output)
                self.chunks = index + 1
                self.run_store.update(self.run_record.id, **self._counters())
                if self.progress is not None:
                    self.progress(self.rows_in, self.total)
            if pending is not None:
                pending.result()
        beyond = [i for i in self.staged if i >= self.chunks]
        if beyond:
            raise self._changed(f"chunk {beyond[0]} was staged; the input now ends before it")

    def _changed(self, what: str) -> InvalidInput:
        return InvalidInput(
            f"the input changed since the interrupted run: {what}; its staged chunks "
            "were discarded",
            hint="run again: the next run starts over on the current input",
        )

    def _log_sample(self) -> None:
        """Write the sample of scored rows to the prediction logs (for the monitors and
        for joining labels by entity key), replacing the sample of earlier runs of the
        partition. The partition is published by now, so a database that refuses the
        records costs the sample, never the run."""
        import json as jsonlib

        from lightkeeper.store.predictions import PredictionRecord

        rows = self.sample.rows()
        if rows is None:
            return
        if self.staged:  # chunks taken over were not sampled: the sample would be skewed
            log.info(
                "%s: no sample logged for a run that took over chunks", self.run_record.deployment
            )
            return
        at, run = self.clock.now(), self.run_record
        challenger = self.release.challenger if self.release.strategy == "canary" else None
        inputs = jsonlib.loads(rows[self.logged].to_json(orient="records", date_format="iso"))
        outputs = jsonlib.loads(rows[_OUT].to_json(orient="values"))
        records = [
            PredictionRecord(
                at=at,
                deployment=run.deployment,
                request_id=f"batch-{run.id}",
                row=i,
                version=int(version),
                arm="challenger" if version == challenger else "champion",
                inputs=values,
                output=output,
                latency_ms=0.0,
            )
            for i, (values, output, version) in enumerate(
                zip(inputs, outputs, rows[_VERSION].tolist(), strict=True)
            )
        ]
        earlier = self.run_store.list(run.deployment, partition=run.partition, limit=1000)
        replaced = [f"batch-{r.id}" for r in earlier if r.id != run.id]
        self.predictions.replace(run.deployment, replaced, records)

    def _counters(self) -> dict[str, Any]:
        """Progress written after every chunk (the score summary only at the end)."""
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_rejected": self.rows_rejected,
            "chunks": self.chunks,
            "resumed_chunks": len(self.staged),
            "versions": self.versions,
        }

    def _count_staged(self) -> None:
        score = self.score_column
        columns = ["prediction", "model_version", *([score] if score else [])]
        for frame in self.sink.read_staged(columns):
            self._add(frame)

    def _add(self, output: pd.DataFrame) -> None:
        score = self.score_column
        for version, count in output["model_version"].value_counts().items():
            self.versions[str(version)] = self.versions.get(str(version), 0) + int(count)
        scores = output[score].to_numpy(dtype=float) if score and score in output else None
        self.summary.add(output["prediction"].to_numpy(), scores)

    def _score_column(self) -> str | None:
        """The probability column summarised as the score (binary classification)."""
        champion = self.arms[self.release.champion or 0]
        classes = getattr(champion.predictor.model, "classes_", None)
        if not champion.probabilities or classes is None or len(classes) != 2:
            return None
        positive = self.positive if self.positive is not None else classes[1]
        return f"proba_{positive}"

    def _score(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One chunk's output rows and rejected rows."""
        import pandas as pd

        duplicated = self.duplicates.split(frame) if self.duplicates is not None else None
        if duplicated is not None:  # the duplicate, the first problem of its row
            frame, twice = frame[~duplicated[0]], frame[duplicated[0]]
        checked = check_chunk(frame, self.manifest.input_schema, self.required, self.keys)
        good = checked.good.reset_index(drop=True)
        holdout = self.config.holdout
        challenger = self.release.challenger if self.release.strategy == "canary" else None
        canary = challenger is not None
        texts = key_text(good, self.keys) if holdout is not None or canary else []
        output = good[self.keys].copy()
        versions = np.full(len(good), self.release.champion, dtype=np.int64)
        if challenger is not None:
            versions[buckets(texts) < (self.release.percent or 0)] = challenger
        predictions, probabilities = self._predict(good, versions)
        output["prediction"] = predictions
        for name, values in probabilities.items():
            output[name] = values
        output["model_version"] = versions
        if self.sample.size:
            self.sample.add(good, self.logged, **{_OUT: predictions, _VERSION: versions})
        if holdout is not None:
            output[holdout.column] = in_holdout(texts, share=holdout.share, salt=holdout.salt)
        if checked.flags is not None:
            output["flags"] = checked.flags
        now = pd.Timestamp(self.clock.now())
        output["run_id"] = self.run_record.id
        output["partition"] = self.run_record.partition
        output["scored_at"] = now
        rejected, reasons = checked.rejected, checked.reasons
        if duplicated is not None:
            both = len(rejected) > 0
            rejected = pd.concat([twice, rejected]) if both else twice
            reasons = np.concatenate([duplicated[1], reasons]) if both else duplicated[1]
        rejects = _rejects(rejected, reasons, self.keys)
        rejects["run_id"] = self.run_record.id
        rejects["partition"] = self.run_record.partition
        rejects["rejected_at"] = now
        return output, rejects

    def _predict(
        self, good: pd.DataFrame, versions: np.ndarray
    ) -> tuple[Any, dict[str, np.ndarray]]:
        """Predictions (and class probabilities) of each row by the version it is routed to."""
        import pandas as pd

        probabilities: dict[str, np.ndarray] = {}
        parts: list[tuple[np.ndarray, Any]] = []
        for version, arm in self.arms.items():
            rows = np.flatnonzero(versions == version)
            if not len(rows):
                continue
            features = (
                good[arm.features] if len(rows) == len(good) else good.iloc[rows][arm.features]
            )
            parts.append((rows, np.asarray(arm.predictor.model.predict(features))))
            if arm.probabilities:
                matrix = arm.predictor.model.predict_proba(features)
                for position, label in enumerate(arm.predictor.model.classes_):
                    column = probabilities.setdefault(f"proba_{label}", np.full(len(good), np.nan))
                    column[rows] = matrix[:, position]
        if len(parts) == 1 and len(parts[0][0]) == len(good):
            return parts[0][1], probabilities  # one version scored every row: keep its dtype
        predictions = np.empty(len(good), dtype=object)
        for rows, values in parts:
            predictions[rows] = values
        return pd.Series(predictions).infer_objects().to_numpy(), probabilities


_OUT, _VERSION = "__lk_prediction", "__lk_version"  # sample columns beside the inputs


def _prefetched(chunks: Iterator[pd.DataFrame]) -> Generator[pd.DataFrame, None, None]:
    """``chunks``, with the next one read in a thread while the caller works on this one.

    The reading thread owns the iterator to the end (SQL cursors stay in their thread)
    and stops early when the caller does; its errors surface in the caller.
    """
    queue: Queue[tuple[str, Any]] = Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        queue.put(("chunk", chunk), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as exc:
            queue.put(("error", exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=read, name="lk-batch-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "error":
                raise item
            if kind == "end":
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting to put, then let it finish
            with suppress(Empty):
                queue.get(timeout=0.1)


def _rejects(rejected: pd.DataFrame, reasons: np.ndarray, keys: list[str]) -> pd.DataFrame:
    import orjson
    import pandas as pd

    out = pd.DataFrame({k: rejected[k].to_numpy() for k in keys})
    out["reason"] = reasons.astype(str) if len(reasons) else pd.Series([], dtype=str)
    records = rejected.astype(object).where(rejected.notna(), None).to_dict(orient="records")
    out["row"] = [orjson.dumps(r, default=str).decode() for r in records]
    return out
