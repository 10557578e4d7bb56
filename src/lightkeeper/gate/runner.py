"""Run the acceptance gate on one version: fresh-process scoring, checks, report, verdict."""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.clock import Clock
from lightkeeper.errors import LightkeeperError, ManifestError
from lightkeeper.events import EventBus, GateFailed, GatePassed
from lightkeeper.gate import champions as champs
from lightkeeper.gate import evaluate
from lightkeeper.gate.checks import Check, failed, handover_checks, latency_check, passed, timed
from lightkeeper.gate.zygote import run_worker
from lightkeeper.gold import load_gold
from lightkeeper.manifest import Gate, Manifest
from lightkeeper.registry import TAG, Registry, VersionInfo
from lightkeeper.store.deploy import DeployStore
from lightkeeper.store.gate import GateRun, GateStore
from lightkeeper.store.gold import GoldStore, GoldVersion
from lightkeeper.version import __version__

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

LATENCY_SAMPLES = 100  # single-row predictions per round (500 in all)
LATENCY_ROUNDS = 5  # the median round's p99 is judged
WORKER_TIMEOUT_S = 3600


@dataclass
class GateContext:
    """What a gate run needs from the workspace."""

    registry: Registry
    gold: GoldStore
    gates: GateStore
    deployments: DeployStore
    bus: EventBus
    clock: Clock
    reports: Path


def run_gate(
    ctx: GateContext,
    model: str,
    version: int | str,
    *,
    actor: str,
    deployment: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> GateRun:
    """Evaluate one version against its manifest's gate policy and store the run.

    Non-inferiority compares with the champion of ``deployment``, or without one with
    the champion of every deployment of the model (the strictest comparison decides).
    The run always completes with a verdict and a report, even when the model fails to
    load or predict (that is a failed smoke check, not a crash).

    Raises:
        DeploymentNotFound: ``deployment`` does not exist.
        InvalidInput: ``deployment`` runs another model.
    """
    step = on_step or (lambda _m: None)
    started_at = ctx.clock.now()
    started = time.perf_counter()
    info = ctx.registry.get_version(model, version)
    targets = champs.targets(ctx.deployments, info.model, deployment)
    manifest = _manifest(ctx.registry, info)
    checks: list[Check] = []
    result: dict[str, Any] = {
        "model": info.model,
        "version": info.version,
        "triggered_by": actor,
        "started_at": started_at.isoformat(),
        "lightkeeper_version": __version__,
        "task": _task(manifest),
        "deployment": deployment,
        "deployments": [t.to_dict() for t in targets],
        "gold": None,
        "champions": [],
        "metrics": None,
        "champion_metrics": None,
        "comparison": None,
        "segments": None,
        "latency": None,
        "plots": None,
    }
    with timed(checks):
        gold_version = _gold_version(ctx.gold, manifest, checks)
    predict_s = 0.0
    if gold_version is not None:
        result["gold"] = {**_gold_summary(gold_version)}
        step(f"scoring {gold_version.rows:,} gold rows in a fresh process")
        predict_s = _score_and_check(ctx, info, manifest, gold_version, targets, result, checks)
    with timed(checks):
        checks.extend(handover_checks(manifest))
    verdict = "passed" if all(c.status in ("passed", "skipped") for c in checks) else "failed"
    total_s = time.perf_counter() - started
    result.update(
        verdict=verdict,
        checks=[c.to_dict() for c in _ordered(checks)],
        duration_s=total_s,
        timings={"predict_s": predict_s, "total_s": total_s},
        finished_at=ctx.clock.now().isoformat(),
    )
    result = _finite(result)
    run_id = ctx.gates.add_run(
        model=info.model,
        version=info.version,
        verdict=verdict,
        gold_name=gold_version.name if gold_version else None,
        gold_version=gold_version.version if gold_version else None,
        triggered_by=actor,
        started_at=started_at,
        result=result,
    )
    result["id"] = run_id
    failed_names = [c.name for c in checks if c.status in ("failed", "error")]
    event_type = GatePassed if verdict == "passed" else GateFailed
    ctx.bus.publish(
        event_type(
            actor=actor,
            model=info.model,
            version=info.version,
            gate_run_id=run_id,
            verdict=verdict,
            failed_checks=failed_names,
        )
    )
    step("writing the report")
    _publish_report(ctx, info, run_id, verdict, result)
    return ctx.gates.get(run_id)


def _publish_report(
    ctx: GateContext, info: VersionInfo, run_id: int, verdict: str, result: dict[str, Any]
) -> None:
    """Write the report and tag the MLflow version; the stored run stands either way."""
    from lightkeeper.gate.report import write_report

    try:
        html, _json = write_report(
            result, ctx.reports / info.model / str(info.version) / str(run_id)
        )
        ctx.gates.set_report(run_id, str(html), result)
    except OSError as exc:
        log.error("gate run %s: cannot write the report: %s", run_id, exc)
    try:
        _tag_version(ctx.registry, info, run_id, verdict)
    except Exception as exc:
        log.error(
            "gate run %s: cannot tag %s v%s in MLflow: %s", run_id, info.model, info.version, exc
        )


def _finite(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (PostgreSQL's json refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _manifest(registry: Registry, info: VersionInfo) -> Manifest:
    manifest = registry.manifest(info.model, info.version)
    if manifest is None:
        raise ManifestError(
            f"{info.model} version {info.version} has no manifest snapshot, so it has no gate "
            "policy or hand-over checklist",
            hint="register versions with `lightkeeper train PROJECT_DIR`, which stores the "
            "project's lightkeeper.yaml with the version",
        )
    return manifest


def _task(manifest: Manifest) -> str:
    return manifest.target.task if manifest.target else "classification"


def _gold_version(store: GoldStore, manifest: Manifest, checks: list[Check]) -> GoldVersion | None:
    if manifest.gate is None:
        checks.append(
            failed(
                "gate:policy",
                "gold",
                "the manifest has no gate: section, so there is no gold dataset or threshold "
                "to judge the model by",
                "add `gate: {gold: NAME, metrics: [{name: accuracy, min: 0.8}]}` to "
                "lightkeeper.yaml and train again",
            )
        )
        return None
    name = manifest.gate.gold
    approved = store.latest_approved(name)
    if approved is not None:
        checks.append(
            passed(
                "gold:approved",
                "gold",
                f"gold dataset {name} version {approved.version} ({approved.rows:,} rows) "
                f"signed off by {approved.approved_by}",
            )
        )
        return approved
    try:
        newest = store.get(name)
    except LightkeeperError:
        checks.append(
            failed(
                "gold:dataset",
                "gold",
                f"the gold dataset {name!r} named by the gate policy does not exist",
                f"the business owner adds it: lightkeeper gold add {name} FILE --owner OWNER "
                "--label-column COLUMN",
            )
        )
        return None
    checks.append(
        failed(
            "gold:approved",
            "gold",
            f"gold dataset {name} version {newest.version} is not signed off by the business",
            f"the owner ({newest.owner}) approves it: lightkeeper gold approve {name} "
            f"{newest.version}",
        )
    )
    return newest


def _gold_summary(gold: GoldVersion) -> dict[str, Any]:
    return {
        "name": gold.name,
        "version": gold.version,
        "hash": gold.content_hash,
        "rows": gold.rows,
        "approved_by": gold.approved_by,
        "label_column": gold.label_column,
        "segment_column": gold.segment_column,
    }


def _score_and_check(
    ctx: GateContext,
    info: VersionInfo,
    manifest: Manifest,
    gold: GoldVersion,
    targets: list[champs.Target],
    result: dict[str, Any],
    checks: list[Check],
) -> float:
    """Run the worker, then every model check; returns the seconds spent in predict."""
    from lightkeeper.gate.contract import client_mistakes, probe_rows

    assert manifest.gate is not None
    gate = manifest.gate
    started = time.perf_counter()
    frame = load_gold(gold)
    missing = [c for c in [*manifest.feature_names, gold.label_column] if c not in frame.columns]
    if missing:
        checks.append(
            failed(
                "gold:schema",
                "gold",
                f"gold dataset {gold.name} version {gold.version} lacks column(s) "
                f"{', '.join(missing)} that this version's input schema needs",
                f"add the gold set again for the current schema: lightkeeper gold add {gold.name} "
                "FILE ... --project PROJECT_DIR",
            )
        )
        checks[-1].duration_s = time.perf_counter() - started
        return 0.0
    # Champions are scored only to compare with; without a policy nothing is compared.
    champion_versions = champs.champions(targets, info.version) if gate.non_inferiority else {}
    with tempfile.TemporaryDirectory(prefix="lightkeeper-gate-") as tmp:
        out = Path(tmp)
        probe_rows(manifest, frame).to_parquet(out / "contract.parquet", index=False)
        versions = [{"role": "candidate", "version": info.version}]
        versions += [{"role": "champion", "version": v} for v in champion_versions]
        job = {
            "tracking_uri": ctx.registry.tracking_uri,
            "model": info.model,
            "versions": versions,
            "gold_path": gold.path,
            "features": manifest.feature_names,
            "task": _task(manifest),
            "latency_samples": LATENCY_SAMPLES,
            "latency_rounds": LATENCY_ROUNDS,
            "contract_path": str(out / "contract.parquet"),
            "out_dir": str(out),
        }
        worker = _run_worker(job, out)
        if isinstance(worker, Check):
            worker.duration_s = time.perf_counter() - started
            checks.append(worker)
            return 0.0
        candidate_report = worker["versions"][0]
        smoke = _smoke(candidate_report)
        checks.append(smoke)
        if smoke.status != "passed":
            smoke.duration_s = time.perf_counter() - started  # the scoring process, all told
            return 0.0
        candidate = evaluate.Scored.read(
            out / f"candidate-{info.version}.parquet",
            info.version,
            candidate_report.get("classes"),
        )
        scored: list[tuple[int, list[str], dict[str, Any], evaluate.Scored | None]] = []
        for report in worker["versions"][1:]:
            number = int(report["version"])
            champion = None
            if not report.get("error"):
                champion = evaluate.Scored.read(
                    out / f"champion-{number}.parquet", number, report.get("classes")
                )
            scored.append((number, champion_versions[number], report, champion))
    contract = _contract(candidate_report["contract"], client_mistakes(manifest, frame))
    contract.duration_s = float(candidate_report["contract"]["predict_s"])
    checks.append(contract)
    checks.append(_latency(candidate_report, gate.latency_p99_ms, result))
    evaluated = time.perf_counter()
    try:
        _model_checks(ctx, info, manifest, frame, gold, candidate, scored, result, checks)
    except LightkeeperError as exc:
        # The run is still stored, with what went wrong, rather than lost to a traceback.
        error = Check(
            "quality:evaluation",
            "quality",
            "error",
            exc.message,
            exc.hint or "check that the gold labels and the model's predictions are of one kind",
        )
        error.duration_s = time.perf_counter() - evaluated
        checks.append(error)
    return sum(float(r.get("predict_s", 0.0)) for r in worker["versions"])


def _latency(report: dict[str, Any], budget_ms: float | None, result: dict[str, Any]) -> Check:
    """The latency check from the worker's rounds (a failure when single rows fail)."""
    if "latency_ms" not in report:
        return failed(
            "latency:p99",
            "latency",
            report.get("latency_error", "single-row predict failed"),
            "the model must score one row at a time, the way online requests arrive",
        )
    check, summary = latency_check(report["latency_ms"]["rounds"], budget_ms)
    check.duration_s = float(report["latency_ms"]["total_s"])
    result["latency"] = summary
    return check


def _model_checks(
    ctx: GateContext,
    info: VersionInfo,
    manifest: Manifest,
    frame: pd.DataFrame,
    gold: GoldVersion,
    candidate: evaluate.Scored,
    scored: list[tuple[int, list[str], dict[str, Any], evaluate.Scored | None]],
    result: dict[str, Any],
    checks: list[Check],
) -> None:
    assert manifest.gate is not None
    gate, task = manifest.gate, _task(manifest)
    positive = manifest.target.positive_class if manifest.target else None
    y_true = evaluate.align_labels(frame[gold.label_column], candidate.predictions)
    with timed(checks):
        custom, custom_checks = _custom_metrics(ctx.registry, gate.custom_metrics, info)
        checks.extend(custom_checks)
    with timed(checks):
        metrics, quality = evaluate.quality(
            gate, task, y_true, candidate, positive_class=positive, custom=custom
        )
        checks.extend(quality)
    result["metrics"] = metrics
    compared = [
        _compare(gate, task, y_true, candidate, entry, positive=positive, custom=custom)
        for entry in scored
    ]
    result["champions"] = [c.to_dict() for c in compared]
    if gate.non_inferiority is not None:
        name = f"non-inferiority:{gate.non_inferiority.metric}"
        if compared:
            decisive = champs.strictest(compared)
            if decisive.data is not None:
                result["comparison"] = {**decisive.data, "deployments": decisive.deployments}
            result["champion_metrics"] = decisive.metrics
            checks.append(champs.decisive_check(compared))
        else:
            targets = [champs.Target(t["name"], t["champion"]) for t in result["deployments"]]
            with timed(checks):
                checks.append(champs.nothing_to_compare(name, info.model, targets, info.version))
    segment_column = gate.segments.column if gate.segments else gold.segment_column
    segment_values = (
        frame[segment_column] if segment_column and segment_column in frame.columns else None
    )
    with timed(checks):
        result["segments"], segment_checks = evaluate.segments(
            gate, task, y_true, candidate, segment_values, positive_class=positive
        )
        checks.extend(segment_checks)
    result["plots"] = evaluate.plots(task, y_true, candidate)


def _compare(
    gate: Gate,
    task: str,
    y_true: Any,
    candidate: evaluate.Scored,
    entry: tuple[int, list[str], dict[str, Any], evaluate.Scored | None],
    *,
    positive: Any,
    custom: dict[str, Any],
) -> champs.Compared:
    """Non-inferiority against one champion; its scoring in the worker counts to the time."""
    assert gate.non_inferiority is not None
    number, deployments, report, champion = entry
    extra: dict[str, Any] = {k: report[k] for k in ("load_s", "predict_s", "error") if k in report}
    worker_s = float(report.get("load_s", 0.0)) + float(report.get("score_s", 0.0))
    if champion is None:
        # There is a champion but it could not be scored: no comparison is no pass.
        check = failed(
            f"non-inferiority:{gate.non_inferiority.metric}",
            "comparison",
            f"champion version {number} could not be scored, so the candidate was not "
            f"compared: {report.get('error')}",
            "fix or re-register the champion (lightkeeper models show), then run the gate again",
        )
        check.duration_s = worker_s
        return champs.Compared(number, deployments, check, extra=extra)
    started = time.perf_counter()
    data, metrics, compared = evaluate.comparison(
        gate, task, y_true, candidate, champion, positive_class=positive, custom=custom
    )
    assert compared is not None  # a policy and a champion always give a check
    compared.duration_s = time.perf_counter() - started + worker_s
    return champs.Compared(number, deployments, compared, data, metrics, extra)


def _custom_metrics(
    registry: Registry, specs: dict[str, str], info: VersionInfo
) -> tuple[dict[str, Any], list[Check]]:
    """Custom metrics from the code shipped with the version (else its project folder)."""
    from lightkeeper.gate.metrics import load_custom_metric

    functions: dict[str, Any] = {}
    checks: list[Check] = []
    if not specs:
        return functions, checks
    with tempfile.TemporaryDirectory(prefix="lightkeeper-code-") as tmp:
        folder = registry.model_code(info.model, info.version, Path(tmp))
        if folder is None and info.lineage.project and Path(info.lineage.project).is_dir():
            folder = Path(info.lineage.project)
        for name, spec in specs.items():
            if folder is None:
                checks.append(
                    failed(
                        f"metric:{name}",
                        "quality",
                        f"custom metric {spec} is neither shipped with the version nor in its "
                        f"project folder ({info.lineage.project})",
                        "train the version with `lightkeeper train`, which ships the project's "
                        "modules with the model",
                    )
                )
                continue
            try:
                functions[name] = load_custom_metric(spec, folder)
            except LightkeeperError as exc:
                checks.append(failed(f"metric:{name}", "quality", exc.message, exc.hint))
    return functions, checks


def _run_worker(job: dict[str, Any], out: Path) -> dict[str, Any] | Check:
    job_path = out / "job.json"
    job_path.write_text(json.dumps(job))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["MLFLOW_CONFIGURE_LOGGING"] = "false"
    # The worker runs this very lightkeeper, whatever else sits on the default path.
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    started = time.perf_counter()
    worker_log = out / "worker.log"
    code = run_worker(job_path, worker_log, env, WORKER_TIMEOUT_S)
    if code is None:
        return Check(
            "smoke:load-and-predict",
            "smoke",
            "error",
            f"scoring did not finish within {WORKER_TIMEOUT_S:.0f} s",
            "check the model's predict time on the gold set",
        )
    result_path = out / "result.json"
    if code != 0 or not result_path.is_file():
        text = worker_log.read_text(errors="replace") if worker_log.is_file() else ""
        log.info("the gate's scoring process (exit %s) wrote:\n%s", code, text[-20000:])
        tail = text.strip().splitlines()[-5:]
        return Check(
            "smoke:load-and-predict",
            "smoke",
            "error",
            f"the scoring process died (exit {code}): {' | '.join(tail)}",
            "run `lightkeeper gate run` with -v to see the full log; a model that crashes "
            "the process (for example a native extension) fails here",
        )
    log.info("gate worker finished in %.1fs", time.perf_counter() - started)
    data: dict[str, Any] = json.loads(result_path.read_text())
    return data


def _smoke(report: dict[str, Any]) -> Check:
    if report.get("error"):
        return failed(
            "smoke:load-and-predict",
            "smoke",
            f"version {report['version']}: {report['error']}",
            "the model must load and predict in a fresh process the way serving loads it: "
            "check its dependencies and that it does not rely on notebook state",
        )
    check = passed(
        "smoke:load-and-predict",
        "smoke",
        f"loaded in {report['load_s']:.2f} s in a fresh process and scored every gold row",
        {"load_s": report["load_s"], "score_s": report["score_s"]},
    )
    check.duration_s = float(report["load_s"]) + float(report["score_s"])
    return check


def _contract(report: dict[str, Any], mistakes: list[dict[str, Any]]) -> Check:
    failures = report["failures"]
    through = [m for m in mistakes if m["outcome"] == "reached the model"]
    if through:
        first = through[0]
        return failed(
            "contract:input-schema",
            "contract",
            f"{len(through)} client mistake(s) would reach the model unvalidated; first: "
            f"{first['value']} in {first['field']}",
            "this is a lightkeeper bug: please report it with the manifest",
            {"client_mistakes": mistakes},
        )
    refused = sum(m["outcome"] == "refused" for m in mistakes)
    imputed = sum(m["outcome"] == "imputed" for m in mistakes)
    if not failures:
        return passed(
            "contract:input-schema",
            "contract",
            f"accepted all {report['rows']} probe rows that satisfy the input schema "
            "(bounds, every category, optional fields missing, what on_invalid: flag keeps "
            f"or imputes); of {len(mistakes)} client mistakes (null, text, list, object, "
            f"infinity, 1e308, true, nested per field) {refused} are refused"
            + (f", {imputed} imputed" if imputed else "")
            + f", {len(mistakes) - refused - imputed} valid for their field",
            details={"client_mistakes": mistakes},
        )
    first = failures[0]
    return failed(
        "contract:input-schema",
        "contract",
        f"rejected {len(failures)} of {report['rows']} schema-valid probe rows; first: "
        f"{first['row']} -> {first['error'].splitlines()[-1]}",
        "make the model accept every row the input schema allows (for example "
        "handle_unknown='ignore' in encoders, imputation for optional fields), or narrow "
        "the schema in lightkeeper.yaml",
        {"failures": failures, "client_mistakes": mistakes},
    )


def _ordered(checks: list[Check]) -> list[Check]:
    order = {"failed": 0, "error": 1, "skipped": 2, "passed": 3}
    return sorted(checks, key=lambda c: order[c.status])


def _tag_version(registry: Registry, info: VersionInfo, run_id: int, verdict: str) -> None:
    registry.tag_version(
        info.model,
        info.version,
        {TAG + "gate.verdict": verdict, TAG + "gate.run_id": str(run_id)},
    )
