"""Tables of the ops database (SQLAlchemy Core). Migrations in ``migrations/`` match these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_kind", "kind"),
    sa.Index("ix_audit_events_subject", "subject"),
)

gold_datasets = sa.Table(
    "gold_datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(100), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("label_column", sa.String(200), nullable=False),
    sa.Column("segment_column", sa.String(200)),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_by", sa.String(200)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("approval_note", sa.Text),
    sa.UniqueConstraint("name", "version", name="uq_gold_datasets_name_version"),
    sa.UniqueConstraint("name", "content_hash", name="uq_gold_datasets_name_hash"),
)

gate_runs = sa.Table(
    "gate_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("gold_name", sa.String(200)),
    sa.Column("gold_version", sa.Integer),
    sa.Column("triggered_by", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("report_path", sa.Text),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Index("ix_gate_runs_model_version", "model", "version"),
)

gate_signoffs = sa.Table(
    "gate_signoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("gate_run_id", sa.Integer, sa.ForeignKey("gate_runs.id"), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_gate_signoffs_model_version", "model", "version"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("token_hash", sa.String(100), nullable=False, unique=True),
    sa.Column("prefix", sa.String(20), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deployment", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("champion", sa.Integer),
    sa.Column("challenger", sa.Integer),
    sa.Column("strategy", sa.String(20)),
    sa.Column("percent", sa.Float),
    sa.Column("gate_run_id", sa.Integer),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_releases_deployment", "deployment"),
)

prediction_logs = sa.Table(
    "prediction_logs",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deployment", sa.String(200), nullable=False),
    sa.Column("request_id", sa.String(100), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("arm", sa.String(20), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("output", sa.JSON),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("flags", sa.JSON),
    sa.Index("ix_prediction_logs_deployment_at", "deployment", "at"),
    sa.Index("ix_prediction_logs_request_id", "request_id"),
)

#: The index of the prediction-log files (:mod:`lightkeeper.logstore`): a file is part of
#: the logs while its row is ``live``; compaction and batch re-runs swap files in one
#: transaction, so a reader's file list is always a consistent snapshot.
log_files = sa.Table(
    "log_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deployment", sa.String(200), nullable=False),
    sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
    sa.Column("path", sa.String(500), nullable=False, unique=True),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("min_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("max_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("batch_request", sa.String(100)),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("gone_at", sa.DateTime(timezone=True)),
    sa.Index("ix_log_files_deployment_state_hour", "deployment", "state", "hour"),
)

life_signals = sa.Table(
    "life_signals",
    metadata,
    sa.Column("instance_id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cadence_seconds", sa.Float, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

# What the control plane's loops did: one status row per loop and process, and their
# decisions, a repeat of the same decision counted on its row rather than added.
loop_status = sa.Table(
    "loop_status",
    metadata,
    sa.Column("loop", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(200), primary_key=True),
    sa.Column("interval_seconds", sa.Float, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("rounds", sa.Integer, nullable=False),
    sa.Column("last_round_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seconds", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)

loop_decisions = sa.Table(
    "loop_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("loop", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Index("ix_loop_decisions_loop_subject", "loop", "subject", "holder", "id"),
    sa.Index("ix_loop_decisions_last_at", "last_at"),
)

batch_runs = sa.Table(
    "batch_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deployment", sa.String(200), nullable=False),
    sa.Column("partition", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("release_id", sa.Integer, nullable=False),
    sa.Column("versions", sa.JSON, nullable=False),
    sa.Column("input", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("rows_in", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_out", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rows_rejected", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("resumed_chunks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("instance_id", sa.String(100), nullable=False),
    sa.Index("ix_batch_runs_deployment_partition", "deployment", "partition"),
)

monitor_results = sa.Table(
    "monitor_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deployment", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Index("ix_monitor_results_window", "deployment", "kind", "window_end"),
    sa.Index(
        "ux_monitor_results_window",
        "deployment",
        "kind",
        "window_start",
        "window_end",
        unique=True,
    ),
)

alarms = sa.Table(
    "alarms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dedup_key", sa.String(400), nullable=False),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("when", sa.String(40), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("model", sa.String(200)),
    sa.Column("version", sa.Integer),
    sa.Column("deployment", sa.String(200)),
    sa.Column("owner", sa.JSON, nullable=False),
    sa.Column("runbook", sa.JSON),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("sinks", sa.JSON, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("acknowledged_by", sa.String(200)),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_by", sa.String(200)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.Text),
    # one open (or acknowledged) alarm per problem, however many processes raise it
    sa.Index(
        "ux_alarms_unresolved",
        "dedup_key",
        unique=True,
        sqlite_where=sa.text("state != 'resolved'"),
        postgresql_where=sa.text("state != 'resolved'"),
    ),
    sa.Index("ix_alarms_state", "state", "last_at"),
)

alarm_deliveries = sa.Table(
    "alarm_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alarm_id", sa.Integer, nullable=False),
    sa.Column("message", sa.String(20), nullable=False),
    sa.Column("sink", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("receipt", sa.JSON),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Index("ix_alarm_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_alarm_deliveries_alarm", "alarm_id"),
)

labels = sa.Table(
    "labels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("deployment", sa.String(200), nullable=False),
    sa.Column("prediction_id", sa.BigInteger, nullable=False),
    sa.Column("predicted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("output", sa.JSON),
    sa.Column("label", sa.JSON, nullable=False),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ux_labels_prediction", "deployment", "prediction_id", unique=True),
    sa.Index("ix_labels_window", "deployment", "predicted_at"),
)
