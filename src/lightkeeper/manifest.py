"""The ``lightkeeper.yaml`` schema and its loader, with errors that name file, line and field.

A project folder holds one manifest. :func:`load_manifest` reads it, :func:`parse_manifest`
validates text. Every failure is a :class:`~lightkeeper.errors.ManifestError` whose message
lines read ``file:line: field.path[2].name: what is wrong`` and whose hint says what to do.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from lightkeeper.errors import ManifestError
from lightkeeper.inputs import MISSING, problem
from lightkeeper.names import NAME_PATTERN, NAME_RULE

MANIFEST_FILE = "lightkeeper.yaml"

FeatureType = Literal["float", "int", "bool", "str", "category", "datetime"]
Kind = Literal["online", "batch", "stream"]
AlarmWhen = Literal[
    "drift",
    "performance",
    "life_signal_late",
    "canary_rolled_back",
    "gate_failed",
    "batch_run_failed",
    "job_failed",
]
SinkKind = Literal["log", "webhook", "chat", "email", "ticket"]
Severity = Literal["info", "warning", "critical"]

_Path = tuple[str | int, ...]
_URL_SINKS = ("webhook", "chat", "ticket")


class _Invalid(ValueError):
    """A validator's complaint, with the path (below the model) it concerns and a hint."""

    def __init__(self, message: str, *path: str | int, hint: str = "") -> None:
        super().__init__(message)
        self.path: _Path = path
        self.hint = hint


def _matching(pattern: str, what: str, hint: str) -> AfterValidator:
    """A validator that checks a string against ``pattern``."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise _Invalid(f"{value!r} is not {what}", hint=hint)
        return value

    return AfterValidator(check)


def _label(value: Any) -> str | int | bool:
    if isinstance(value, str | int | bool):
        return value
    raise _Invalid(f"{value!r} is not a label", hint="use text, a whole number or true/false")


def _bound(value: Any) -> int | float | datetime:
    if isinstance(value, int | float | datetime) and not isinstance(value, bool):
        return value
    if isinstance(value, date):  # YAML reads 2024-01-31 as a date
        return datetime.combine(value, time())
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Invalid(f"{value!r} is not a bound", hint="use a number or a date") from None


def _unique(names: Sequence[Any], what: str, *path: str | int) -> None:
    """Raise on the first name seen twice, pointing at its second appearance."""
    seen: set[Any] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise _Invalid(f"{what} {name!r} is declared twice", *path, index)
        seen.add(name)


ModelName = Annotated[str, _matching(NAME_PATTERN, "a valid model name", f"use {NAME_RULE}")]
Entrypoint = Annotated[
    str,
    _matching(
        r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*",
        'of the form "module:function"',
        "name a function in a module of the project folder, e.g. train:train",
    ),
]
ErrorCode = Annotated[
    str,
    _matching(r"[A-Z][A-Z0-9-]{1,63}", "a valid error code", "use capitals, digits, '-': LK-DRIFT"),
]
Label = Annotated[str | int | bool, PlainValidator(_label)]
Bound = Annotated[int | float | datetime, PlainValidator(_bound)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, data: Any) -> Any:
        # `alarms:` with its body commented out means "the default"; an empty required
        # field still fails, on its own line.
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            key: value
            for key, value in data.items()
            if value is not None or key not in fields or fields[key].is_required()
        }


class Entrypoints(_Model):
    """Functions lightkeeper calls in the project, as ``module:function``."""

    train: Entrypoint
    predict: Entrypoint | None = None


class InputField(_Model):
    """One column of the model's input schema."""

    name: Text
    type: FeatureType
    required: bool = True
    min: Bound | None = None
    max: Bound | None = None
    categories: list[Label] | None = None
    on_invalid: Literal["reject", "flag"] = "reject"
    impute: Any = None  # under flag: what the model gets in place of a value it cannot take

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_impute()
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is not None and self.type not in ("float", "int", "datetime"):
                raise _Invalid(
                    f"{bound} is not allowed for type {self.type}",
                    bound,
                    hint="min and max apply to float, int and datetime fields only",
                )
            if value is not None and (self.type == "datetime") != isinstance(value, datetime):
                raise _Invalid(f"{value!r} does not fit type {self.type}", bound)
        if self.min is not None and self.max is not None and self.min > self.max:  # type: ignore[operator]  # kinds match: checked above
            raise _Invalid(f"min {self.min} is greater than max {self.max}", "min")
        if self.type == "category" and not self.categories:
            raise _Invalid(
                "a category field needs categories",
                "categories",
                hint="list the allowed values, e.g. categories: [rain, sun]",
            )
        if self.type != "category" and self.categories is not None:
            raise _Invalid(
                f"categories are not allowed for type {self.type}",
                "categories",
                hint="use type: category, or remove categories",
            )
        _unique(self.categories or [], "category", "categories")
        return self

    def _check_impute(self) -> None:
        if self.impute is None or self.impute == MISSING:
            if self.impute is not None and self.on_invalid != "flag":
                raise _Invalid("impute applies to on_invalid: flag", "impute")
            return
        if self.on_invalid != "flag":
            raise _Invalid(
                "impute applies to on_invalid: flag",
                "impute",
                hint="add on_invalid: flag, or remove impute",
            )
        value = self.impute
        if self.type == "datetime" and isinstance(value, date | datetime):
            return
        wrong = problem(self, value)
        if wrong is not None:
            raise _Invalid(
                f"impute: {wrong.text}",
                "impute",
                hint=f"use a valid {self.type} value, or missing for a missing value",
            )


class Target(_Model):
    """The column the model predicts; a float target means regression unless told."""

    name: Text
    type: FeatureType = "category"
    task: Literal["classification", "regression"] = "classification"
    positive_class: Label | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_task(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("task") is None and data.get("type") == "float":
            return {**data, "task": "regression"}
        return data

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.task == "regression" and self.type not in ("float", "int"):
            raise _Invalid(f"regression needs a float or int target, not {self.type}", "task")
        if self.task == "regression" and self.positive_class is not None:
            raise _Invalid("positive_class is only for classification", "positive_class")
        return self


class Support(_Model):
    """Who supports the model in production, and when."""

    team: Text
    on_call: Text
    hours: Text
    escalation: str | None = None


class RunbookEntry(_Model):
    """What an error type means and what to do first."""

    code: ErrorCode
    meaning: Text
    first_action: Text


class AlarmRule(_Model):
    """When to raise an alarm, how loud, and which sinks it goes to."""

    name: Text
    when: AlarmWhen
    threshold: float | None = None
    severity: Severity = "warning"
    error_type: str | None = None
    sinks: list[str] = Field(default_factory=lambda: ["log"], min_length=1)


class Sink(_Model):
    """A place alarms are sent to."""

    name: Text
    kind: SinkKind
    url: str | None = None
    to: list[Text] | None = None
    secret_env: (
        Annotated[
            str, _matching(r"[A-Za-z_]\w*", "an environment variable name", "e.g. OPS_CHAT_SECRET")
        ]
        | None
    ) = None
    format: Literal["generic", "jira"] = "generic"  # ticket sinks: the payload's shape
    project: Text | None = None  # ticket sinks with format jira: the project key
    issue_type: Text = "Task"  # ticket sinks with format jira: the issue type to open

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.name == "log":
            raise _Invalid("'log' is the built-in sink", "name", hint="pick another name")
        if self.kind in _URL_SINKS and not (self.url or "").startswith(
            ("http://", "https://", "${")
        ):
            raise _Invalid(
                f"a {self.kind} sink needs an http(s) url",
                "url",
                hint="https://..., or ${VARIABLE} to take it from the environment",
            )
        if self.kind == "email" and not self.to:
            raise _Invalid("an email sink needs recipients", "to", hint="to: [ops@example.com]")
        if self.kind == "email" and self.url and not self.url.startswith(("smtp", "${")):
            raise _Invalid(
                "an email sink's url is an SMTP server", "url", hint="smtp://mail.example.com:25"
            )
        if self.format == "jira" and not (self.kind == "ticket" and self.project):
            raise _Invalid(
                "format jira is for ticket sinks and needs the project key",
                "project",
                hint="kind: ticket, format: jira, project: OPS",
            )
        return self


class Alarms(_Model):
    """Alarm rules and the sinks they send to; ``log`` is a built-in sink."""

    rules: list[AlarmRule] = Field(default_factory=list)
    sinks: list[Sink] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        _unique([sink.name for sink in self.sinks], "sink", "sinks")
        _unique([rule.name for rule in self.rules], "rule", "rules")
        known = ["log", *(sink.name for sink in self.sinks)]
        for i, rule in enumerate(self.rules):
            for j, sink in enumerate(rule.sinks):
                if sink not in known:
                    raise _Invalid(
                        f"unknown sink {sink!r}",
                        *("rules", i, "sinks", j),
                        hint=f"known sinks: {', '.join(known)}",
                    )
        return self


class Logging(_Model):
    """What the serving side records about predictions."""

    predictions: bool = True
    sample: float = Field(default=1.0, gt=0, le=1)
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Rollout(_Model):
    """How the rollout controller judges a challenger on canary or shadow."""

    observe_seconds: float = Field(default=600, gt=0)
    min_requests: int = Field(default=200, ge=1)
    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    max_p99_ratio: float = Field(default=2.0, ge=1)
    p99_floor_ms: float = Field(default=25.0, ge=0)  # p99s below this are never a regression
    max_divergence: float = Field(default=0.3, gt=0, le=1)
    promote: Literal["auto", "manual"] = "auto"  # a healthy canary
    promote_shadow: Literal["auto", "manual"] = "manual"  # a healthy shadow: only if said


class GateMetric(_Model):
    """A bound on one metric measured on the gold dataset."""

    name: Text
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min is None and self.max is None:
            raise _Invalid("a gate metric needs min or max", hint="add min: or max:")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _Invalid(f"min {self.min} is greater than max {self.max}", "min")
        return self


class NonInferiority(_Model):
    """The new version may not be worse than the champion by more than ``max_drop``."""

    metric: Text
    max_drop: float = Field(ge=0)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    resamples: int = Field(default=1000, ge=100)


class Segments(_Model):
    """Minimum metric values within every segment, segments being values of ``column``."""

    column: Text
    metrics: dict[str, float] = Field(default_factory=dict)


class Gate(_Model):
    """The acceptance-gate policy."""

    gold: Text
    metrics: list[GateMetric] = Field(default_factory=list)
    non_inferiority: NonInferiority | None = None
    segments: Segments | None = None
    latency_p99_ms: float | None = Field(default=None, gt=0)
    custom_metrics: dict[str, Entrypoint] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Self:
        _unique([metric.name for metric in self.metrics], "metric", "metrics")
        return self


class Schedule(_Model):
    """A job run on a cron schedule."""

    job: Text
    cron: str

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        return _cron(cron)


def _cron(cron: str) -> str:
    fields = cron.split()
    if len(fields) != 5 or not all(re.fullmatch(r"[\w*/,?#-]+", part) for part in fields):
        raise _Invalid(
            f"{cron!r} is not a 5-field cron expression",
            hint="minute hour day-of-month month day-of-week, e.g. '0 6 * * *'",
        )
    return cron


class BatchInput(_Model):
    """Where a batch run reads: a SQL query or table at a database URL, or files."""

    url: str | None = None
    query: str | None = None
    table: Text | None = None
    path: Text | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.path is not None:
            if self.url or self.query or self.table:
                raise _Invalid("give path, or url with query or table, not both", "path")
        elif self.url is None or (self.query is None) == (self.table is None):
            raise _Invalid(
                "needs path, or url with exactly one of query and table",
                hint="path: data/customers.parquet, or url: ${WAREHOUSE_URL} with table: customers",
            )
        return self


class BatchOutput(_Model):
    """Where a batch run writes: a SQL table at a database URL, or a Parquet dataset folder."""

    url: str | None = None
    table: Text | None = None
    path: Text | None = None

    @model_validator(mode="after")
    def _one_sink(self) -> Self:
        if (self.path is None) == (self.table is None) or (self.table is not None) != (
            self.url is not None
        ):
            raise _Invalid(
                "needs path (a Parquet dataset folder), or url with table",
                hint="path: out/scores, or url: ${WAREHOUSE_URL} with table: scores",
            )
        return self


class Holdout(_Model):
    """A control group left untreated: a stable hash of the entity key and a salt."""

    share: float = Field(gt=0, lt=1)
    salt: Text
    column: Text = "holdout"


class Cadence(_Model):
    """When a batch run must have finished: each time ``cron`` fires (UTC), a run that
    succeeded since the previous firing is due; ``grace_minutes`` later it is late."""

    cron: str
    grace_minutes: float = Field(default=0, ge=0)

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        return _cron(cron)


class Monitoring(_Model):
    """Drift and performance monitors over the prediction logs (``lightkeeper monitor``)."""

    window: str = "1d"
    every: str = "1h"  # how often ``lightkeeper up`` checks the window ending then
    features: list[Text] | None = None  # the features watched; default: every profiled one
    metric: Text | None = None  # performance: the headline metric (default: the gate's first)
    min: float | None = None  # performance below this is degraded (default: the gate's min)

    @field_validator("window", "every")
    @classmethod
    def _duration(cls, text: str) -> str:
        from lightkeeper.clock import parse_duration

        try:
            parse_duration(text)
        except ValueError as exc:
            raise _Invalid(str(exc), hint="for example window: 1d, every: 1h") from None
        return text


class Batch(_Model):
    """Defaults for ``lightkeeper batch run`` of a batch deployment."""

    input: BatchInput | None = None
    output: BatchOutput | None = None
    chunk_rows: int = Field(default=50_000, ge=1, le=10_000_000)
    max_reject_share: float = Field(default=0.01, ge=0, le=1)
    probabilities: bool = True
    holdout: Holdout | None = None
    cadence: Cadence | None = None
    log_rows: int = Field(default=10_000, ge=0, le=1_000_000)  # sample for the monitors
    # an entity key in more than one row: reject them all, or score the last one only
    duplicate_keys: Literal["reject", "keep_last"] = "reject"


class Manifest(_Model):
    """A project's ``lightkeeper.yaml``."""

    name: ModelName
    kind: Kind
    description: str | None = None
    owner: str | None = None
    entrypoints: Entrypoints
    input_schema: list[InputField]
    extra_columns: list[Text] = Field(default_factory=list)
    target: Target | None = None
    entity_key: Annotated[
        list[Text] | None, BeforeValidator(lambda v: [v] if isinstance(v, str) else v)
    ] = None
    support: Support | None = None
    runbook: list[RunbookEntry] = Field(default_factory=list)
    alarms: Alarms = Field(default_factory=Alarms)
    logging: Logging = Field(default_factory=Logging)
    rollout: Rollout = Field(default_factory=Rollout)
    gate: Gate | None = None
    schedules: list[Schedule] = Field(default_factory=list)
    batch: Batch = Field(default_factory=Batch)
    monitoring: Monitoring = Field(default_factory=Monitoring)

    @property
    def feature_names(self) -> list[str]:
        """Names of the input columns, in schema order."""
        return [field.name for field in self.input_schema]

    def runbook_entry(self, code: str) -> RunbookEntry | None:
        """The runbook entry for an error type, or None."""
        return next((entry for entry in self.runbook if entry.code == code), None)

    @field_validator("input_schema")
    @classmethod
    def _some_input(cls, fields: list[InputField]) -> list[InputField]:
        if not fields:
            raise _Invalid("needs at least one field", hint="list the model's input columns")
        _unique([field.name for field in fields], "field")
        return fields

    @model_validator(mode="after")
    def _check(self) -> Self:
        _unique(self.extra_columns, "column", "extra_columns")
        for i, column in enumerate(self.extra_columns):
            if column in self.feature_names:
                raise _Invalid(f"{column!r} is already in input_schema", "extra_columns", i)
        columns = [*self.feature_names, *self.extra_columns]
        keys = self.entity_key or []
        for i, column in enumerate(keys):
            if column not in columns:
                raise _Invalid(
                    f"unknown column {column!r}",
                    *(("entity_key", i) if len(keys) > 1 else ("entity_key",)),
                    hint="name input_schema fields or declare the column under extra_columns",
                )
        if self.target is not None and self.target.name in columns:
            raise _Invalid(f"{self.target.name!r} is also an input column", "target", "name")
        codes = [entry.code for entry in self.runbook]
        _unique(codes, "code", "runbook")
        for i, rule in enumerate(self.alarms.rules):
            if rule.error_type is not None and rule.error_type not in codes:
                raise _Invalid(
                    f"unknown runbook code {rule.error_type!r}",
                    *("alarms", "rules", i, "error_type"),
                    hint=f"known codes: {', '.join(codes) or 'none, add runbook entries'}",
                )
        segments = self.gate.segments if self.gate else None
        target = [self.target.name] if self.target else []
        if segments is not None and segments.column not in [*columns, *target]:
            raise _Invalid(
                f"unknown column {segments.column!r}",
                *("gate", "segments", "column"),
                hint="name an input_schema field, extra_columns entry or the target",
            )
        return self


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate the manifest of a project folder, or a manifest file itself."""
    path = Path(path)
    file = path / MANIFEST_FILE if path.is_dir() else path
    if not file.is_file():
        raise ManifestError(
            f"no manifest at {file}",
            hint=f"point to a project folder that holds {MANIFEST_FILE}; "
            "examples/seattle_weather/lightkeeper.yaml shows every section",
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {file}: {exc}", hint="save it as UTF-8 text") from exc
    return parse_manifest(text, source=str(file))


def parse_manifest(text: str, source: str = "<string>") -> Manifest:
    """Validate manifest text; ``source`` names it in error messages."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise ManifestError(
            f"{where}: invalid YAML: {problem}", hint="check indentation, colons and quoting"
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(
            f"{source}: invalid YAML: {exc}", hint="save it as plain text"
        ) from None
    finally:
        loader.dispose()
    if node is None or not isinstance(data, dict):
        got = "it is empty" if data is None else f"got {_kind(data)}"
        raise ManifestError(
            f"{source}:1: the manifest must be a mapping of fields, {got}",
            hint="start with lines like `name: my-model` and `kind: batch`",
        )
    lines: dict[_Path, int] = {(): node.start_mark.line + 1}
    _index_lines(node, (), lines, source, set())
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        # One line per problem, in file order; pydantic may report one spot twice.
        found = dict.fromkeys(_problem(error, lines, source) for error in exc.errors())
        problems = sorted(found, key=lambda problem: problem[0])
        message = "\n".join(line for _, line, _ in problems)
        raise ManifestError(message, hint=problems[0][2]) from None


def _index_lines(
    node: yaml.Node, path: _Path, lines: dict[_Path, int], source: str, active: set[int]
) -> None:
    """Record the 1-based line of every key and list item; reject duplicate keys."""
    if id(node) in active:  # a recursive alias; pydantic reports the cycle
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key_path = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if key_path in lines:
                raise ManifestError(
                    f"{source}:{line}: {_render(key_path)}: duplicate key "
                    f"(first on line {lines[key_path]})",
                    hint="keep one of them",
                )
            lines[key_path] = line
            _index_lines(value_node, key_path, lines, source, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _index_lines(item, (*path, index), lines, source, active)
    active.discard(id(node))


def _problem(error: Any, lines: dict[_Path, int], source: str) -> tuple[int, str, str]:
    """One pydantic error as (line, message line, hint)."""
    loc: _Path = tuple(error["loc"])
    kind, value = error["type"], error.get("input")
    cause = (error.get("ctx") or {}).get("error")
    hint = ""
    if isinstance(cause, _Invalid):
        loc, text, hint = (*loc, *cause.path), str(cause), cause.hint
    elif kind == "missing":
        text = "field required"
        hint = f"add {loc[-1]}: " + (f"under {_render(loc[:-1])}" if loc[:-1] else "at the top")
    elif kind == "extra_forbidden":
        text, hint = f"unknown field {loc[-1]!r}", _allowed_fields(loc[:-1], str(loc[-1]))
    elif kind == "literal_error":
        text = f"{value!r} is not allowed"
        hint = "use one of: " + ", ".join(re.findall(r"'([^']*)'", error["ctx"]["expected"]))
    elif kind in ("model_type", "model_attributes_type", "list_type", "dict_type"):
        expected = "a list" if kind == "list_type" else "a mapping of fields"
        text = f"expected {expected}, got {_kind(value)}"
    elif kind == "string_type":
        text, hint = f"expected text, got {_kind(value)}", "put the value in quotes"
    elif kind in ("too_short", "string_too_short"):  # every min_length here is 1
        text = "must not be empty"
    elif kind == "invalid_key":
        text, hint = "keys must be text", "put the key in quotes"
    else:
        message = error["msg"]
        text = f"{message[:1].lower()}{message[1:]} (got {_kind(value)})"
    # The line of the deepest part of the path present in the file; for a missing field,
    # the line of the mapping that lacks it.
    known = loc[:-1] if kind == "missing" else loc
    line = next((lines[known[:n]] for n in range(len(known), 0, -1) if known[:n] in lines), 0)
    line = line or lines[()]
    return line, f"{source}:{line}: {_render(loc) or '(top level)'}: {text}", hint


def _render(path: _Path) -> str:
    """A path as ``alarms.rules[0].sinks[1]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _kind(value: Any) -> str:
    """A short description of a YAML value for error messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _allowed_fields(path: _Path, unknown: str) -> str:
    """The fields allowed at ``path``, with a guess at the one meant."""
    model: type[BaseModel] | None = Manifest
    for part in path:
        if isinstance(part, str) and model is not None:
            field = model.model_fields.get(part)
            model = _inner_model(field.annotation) if field else None
    if model is None:
        return ""
    close = difflib.get_close_matches(unknown, list(model.model_fields), n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{guess}allowed here: {', '.join(model.model_fields)}"


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[Sink] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_inner_model, get_args(annotation))), None)
