"""Tests for the lightkeeper.yaml schema and loader: every error names file, line and field."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from lightkeeper.errors import ManifestError
from lightkeeper.manifest import Manifest, load_manifest, parse_manifest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seattle_weather"

MINIMAL = """\
name: tiny
kind: online
entrypoints:
  train: train:train
input_schema:
  - name: x
    type: float
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lightkeeper.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def manifest_error(tmp_path: Path, text: str) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_manifest(write(tmp_path, text))
    return info.value


def test_example_manifest_parses() -> None:
    manifest = load_manifest(EXAMPLE / "lightkeeper.yaml")
    assert manifest.name == "seattle-weather"
    assert manifest.kind == "batch"
    assert manifest.owner == "weather-desk@example.com"
    assert manifest.entrypoints.train == "train:train"
    assert manifest.feature_names == ["precipitation", "temp_max", "temp_min", "wind", "month"]
    month = manifest.input_schema[4]
    assert (month.type, month.min, month.max) == ("int", 1, 12)
    assert manifest.target is not None
    assert (manifest.target.name, manifest.target.task) == ("weather", "classification")
    assert {entry.code for entry in manifest.runbook} >= {"LK-DRIFT", "LK-DATA-LATE"}
    assert manifest.alarms.rules[0].sinks == ["log", "ops-webhook"]
    assert manifest.alarms.sinks[0].url == "${OPS_WEBHOOK_URL}"
    assert manifest.logging.predictions is True
    assert manifest.gate is not None
    assert manifest.gate.gold == "seattle-weather-gold"
    assert manifest.gate.metrics[0].min == 0.55
    assert manifest.gate.non_inferiority is not None
    assert manifest.gate.non_inferiority.max_drop == 0.02
    assert manifest.gate.latency_p99_ms == 100


def test_folder_path_resolves_to_lightkeeper_yaml(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    assert load_manifest(tmp_path).name == "tiny"
    assert load_manifest(str(tmp_path)).name == "tiny"
    assert load_manifest(EXAMPLE).name == "seattle-weather"


def test_minimal_manifest_gets_defaults() -> None:
    manifest = parse_manifest(MINIMAL)
    field = manifest.input_schema[0]
    assert (field.required, field.on_invalid, field.min, field.categories) == (
        True,
        "reject",
        None,
        None,
    )
    assert manifest.entrypoints.predict is None
    assert manifest.target is None
    assert manifest.support is None
    assert manifest.gate is None
    assert manifest.runbook == []
    assert manifest.alarms.rules == [] and manifest.alarms.sinks == []
    assert (manifest.logging.predictions, manifest.logging.sample, manifest.logging.level) == (
        True,
        1.0,
        "INFO",
    )
    assert manifest.schedules == []
    assert (manifest.monitoring.window, manifest.monitoring.every) == ("1d", "1h")
    assert manifest.monitoring.features is None
    assert manifest.runbook_entry("LK-DRIFT") is None


def test_monitoring_windows_must_be_durations() -> None:
    text = MINIMAL + "monitoring:\n  window: 1 day\n"
    with pytest.raises(ManifestError, match=r"monitoring\.window.*'1 day' is not a duration"):
        parse_manifest(text)


def test_manifest_is_frozen() -> None:
    manifest = parse_manifest(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        manifest.name = "other"


def test_empty_section_means_default() -> None:
    manifest = parse_manifest(MINIMAL + "alarms:\nrunbook:\nlogging:\n")
    assert manifest.alarms.rules == [] and manifest.runbook == []
    assert manifest.logging.sample == 1.0


def test_wrong_enum_names_line_field_and_allowed_values(tmp_path: Path) -> None:
    text = MINIMAL + "  - name: y\n    type: flaot\n"
    path = write(tmp_path, text)
    with pytest.raises(
        ManifestError,
        match=re.escape(f"{path}:9: input_schema[1].type: 'flaot' is not allowed"),
    ) as info:
        load_manifest(path)
    assert info.value.hint == "use one of: float, int, bool, str, category, datetime"


def test_wrong_kind_lists_kinds() -> None:
    with pytest.raises(ManifestError, match=r"^<string>:2: kind: 'nightly' is not allowed") as info:
        parse_manifest(MINIMAL.replace("kind: online", "kind: nightly"))
    assert info.value.hint == "use one of: online, batch, stream"


def test_unknown_key_names_its_line_and_suggests(tmp_path: Path) -> None:
    text = MINIMAL + "    catgories: [a, b]\n"
    error = manifest_error(tmp_path, text)
    assert re.search(r":8: input_schema\[0\]\.catgories: unknown field 'catgories'$", error.message)
    assert error.hint.startswith("did you mean 'categories'? allowed here: name, type,")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r":8: retrain: unknown field 'retrain'"):
        load_manifest(write(tmp_path, MINIMAL + "retrain: weekly\n"))


def test_missing_required_field_names_parent_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("  train: train:train\n", "  predict: serve:predict\n")
    with pytest.raises(ManifestError, match=r":3: entrypoints\.train: field required") as info:
        load_manifest(write(tmp_path, text))
    assert info.value.hint == "add train: under entrypoints"


def test_missing_top_level_field() -> None:
    with pytest.raises(ManifestError, match=r"^<string>:1: kind: field required"):
        parse_manifest(MINIMAL.replace("kind: online\n", ""))


def test_missing_field_in_list_item_points_at_the_item() -> None:
    text = MINIMAL + "support:\n  team: ml-ops\n  hours: always\n"
    with pytest.raises(ManifestError, match=r"^<string>:8: support\.on_call: field required"):
        parse_manifest(text)


def test_all_errors_are_listed_in_file_order() -> None:
    text = MINIMAL.replace("kind: online", "kind: nightly") + "  - name: y\n    type: text\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text)
    lines = info.value.message.splitlines()
    assert lines == [
        "<string>:2: kind: 'nightly' is not allowed",
        "<string>:9: input_schema[1].type: 'text' is not allowed",
    ]


def test_category_without_categories(tmp_path: Path) -> None:
    text = MINIMAL.replace("type: float", "type: category")
    with pytest.raises(
        ManifestError, match=r":6: input_schema\[0\]\.categories: a category field needs categories"
    ):
        load_manifest(write(tmp_path, text))


def test_categories_on_a_float_field() -> None:
    text = MINIMAL + "    categories: [a]\n"
    with pytest.raises(
        ManifestError,
        match=r":8: input_schema\[0\]\.categories: categories are not allowed for type float",
    ):
        parse_manifest(text)


def test_duplicate_category_points_at_the_second() -> None:
    text = MINIMAL.replace("type: float", "type: category") + "    categories: [a, b, a]\n"
    with pytest.raises(
        ManifestError, match=r":8: input_schema\[0\]\.categories\[2\]: category 'a' is declared"
    ):
        parse_manifest(text)


def test_min_on_a_str_field(tmp_path: Path) -> None:
    text = MINIMAL.replace("type: float", "type: str") + "    min: 0\n"
    with pytest.raises(
        ManifestError, match=r":8: input_schema\[0\]\.min: min is not allowed for type str"
    ) as info:
        load_manifest(write(tmp_path, text))
    assert "float, int and datetime" in info.value.hint


def test_min_greater_than_max() -> None:
    text = MINIMAL + "    min: 5\n    max: 1\n"
    with pytest.raises(ManifestError, match=r":8: input_schema\[0\]\.min: min 5 is greater"):
        parse_manifest(text)


def test_datetime_bounds_are_dates() -> None:
    text = MINIMAL.replace("type: float", "type: datetime") + "    min: 2020-01-01\n"
    assert parse_manifest(text).input_schema[0].min == datetime(2020, 1, 1)
    with pytest.raises(ManifestError, match=r"input_schema\[0\]\.max: 3 does not fit type"):
        parse_manifest(text + "    max: 3\n")


def test_duplicate_feature_names(tmp_path: Path) -> None:
    text = MINIMAL + "  - name: y\n    type: int\n  - name: x\n    type: int\n"
    with pytest.raises(ManifestError, match=r":10: input_schema\[2\]: field 'x' is declared twice"):
        load_manifest(write(tmp_path, text))


def test_empty_input_schema() -> None:
    text = MINIMAL.split("input_schema:")[0] + "input_schema: []\n"
    with pytest.raises(ManifestError, match=r":5: input_schema: needs at least one field"):
        parse_manifest(text)


ALARMS = """\
runbook:
  - code: LK-DRIFT
    meaning: inputs drifted
    first_action: look at the drift report
alarms:
  rules:
    - name: drift-high
      when: drift
      error_type: LK-DRIFT
      sinks: [log, ops-chat]
  sinks:
    - name: ops-chat
      kind: chat
      url: https://chat.example.com/hook
      secret_env: OPS_CHAT_SECRET
"""


def test_alarms_with_known_sinks_and_codes() -> None:
    manifest = parse_manifest(MINIMAL + ALARMS)
    assert manifest.alarms.rules[0].sinks == ["log", "ops-chat"]
    assert manifest.alarms.rules[0].severity == "warning"
    entry = manifest.runbook_entry("LK-DRIFT")
    assert entry is not None and entry.first_action == "look at the drift report"


def test_alarm_referencing_unknown_sink(tmp_path: Path) -> None:
    text = MINIMAL + ALARMS.replace("[log, ops-chat]", "[log, ops-chta]")
    with pytest.raises(
        ManifestError, match=r":17: alarms\.rules\[0\]\.sinks\[1\]: unknown sink 'ops-chta'"
    ) as info:
        load_manifest(write(tmp_path, text))
    assert info.value.hint == "known sinks: log, ops-chat"


def test_alarm_referencing_unknown_runbook_code(tmp_path: Path) -> None:
    text = MINIMAL + ALARMS.replace("error_type: LK-DRIFT", "error_type: LK-DRIFTING")
    with pytest.raises(
        ManifestError,
        match=r":16: alarms\.rules\[0\]\.error_type: unknown runbook code 'LK-DRIFTING'",
    ) as info:
        load_manifest(write(tmp_path, text))
    assert info.value.hint == "known codes: LK-DRIFT"


def test_sink_named_log_and_sink_without_url() -> None:
    with pytest.raises(
        ManifestError, match=r":19: alarms\.sinks\[0\]\.name: 'log' is the built-in"
    ):
        parse_manifest(MINIMAL + ALARMS.replace("name: ops-chat", "name: log"))
    text = MINIMAL + ALARMS.replace("      url: https://chat.example.com/hook\n", "")
    with pytest.raises(ManifestError, match=r":19: alarms\.sinks\[0\]\.url: a chat sink needs"):
        parse_manifest(text)


def test_duplicate_runbook_code() -> None:
    entry = "  - code: LK-DRIFT\n    meaning: again\n    first_action: again\n"
    text = MINIMAL + ALARMS.replace("alarms:\n", entry + "alarms:\n", 1)
    with pytest.raises(ManifestError, match=r":12: runbook\[1\]: code 'LK-DRIFT' is declared"):
        parse_manifest(text)


def test_bad_runbook_code_form() -> None:
    with pytest.raises(ManifestError, match=r":9: runbook\[0\]\.code: 'drift' is not a valid"):
        parse_manifest(MINIMAL + ALARMS.replace("code: LK-DRIFT", "code: drift"))


@pytest.mark.parametrize(
    "entrypoint", ["train", "train-v2:train", "train:", ":train", "a b:c", "a:b:c"]
)
def test_bad_entrypoint_form(tmp_path: Path, entrypoint: str) -> None:
    text = MINIMAL.replace("train: train:train", f"train: '{entrypoint}'")
    with pytest.raises(
        ManifestError, match=r':4: entrypoints\.train: .* is not of the form "module:function"'
    ):
        load_manifest(write(tmp_path, text))


def test_dotted_entrypoint_is_fine() -> None:
    text = MINIMAL.replace("train: train:train", "train: pipelines.fit:main")
    assert parse_manifest(text).entrypoints.train == "pipelines.fit:main"


def test_bad_model_name() -> None:
    with pytest.raises(ManifestError, match=r"^<string>:1: name: 'Tiny Model' is not a valid"):
        parse_manifest(MINIMAL.replace("name: tiny", "name: Tiny Model"))


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    text = MINIMAL + "target:\n  name: [weather\n  type: category\n"
    with pytest.raises(ManifestError, match=r"lightkeeper\.yaml:1[01]: invalid YAML: "):
        load_manifest(write(tmp_path, text))


def test_bad_indentation_gives_the_line() -> None:
    text = MINIMAL.replace("    type: float", "   type: float")
    with pytest.raises(ManifestError, match=r"^<string>:7: invalid YAML: .*expected <block end>"):
        parse_manifest(text)


def test_duplicate_yaml_key_gives_both_lines() -> None:
    with pytest.raises(
        ManifestError, match=r"^<string>:8: kind: duplicate key \(first on line 2\)"
    ):
        parse_manifest(MINIMAL + "kind: batch\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=re.escape(f"no manifest at {tmp_path}")) as info:
        load_manifest(tmp_path)
    assert "lightkeeper.yaml" in info.value.hint
    with pytest.raises(ManifestError, match=r"no manifest at .*nope\.yaml"):
        load_manifest(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "got"), [("", "it is empty"), ("- a\n- b\n", "got a list"), ("hello\n", "got 'hello'")]
)
def test_top_level_must_be_a_mapping(text: str, got: str) -> None:
    with pytest.raises(ManifestError, match=f"must be a mapping of fields, {got}"):
        parse_manifest(text)


def test_wrong_type_of_section() -> None:
    with pytest.raises(ManifestError, match=r":8: support: expected a mapping of fields, got 'x'"):
        parse_manifest(MINIMAL + "support: x\n")


def test_number_where_text_expected_hints_quotes() -> None:
    with pytest.raises(ManifestError, match=r":8: owner: expected text, got 42") as info:
        parse_manifest(MINIMAL + "owner: 42\n")
    assert info.value.hint == "put the value in quotes"


def test_logging_sample_range() -> None:
    with pytest.raises(ManifestError, match=r":9: logging\.sample: .*less than or equal to 1"):
        parse_manifest(MINIMAL + "logging:\n  sample: 2\n")


def test_target_task_defaults() -> None:
    manifest = parse_manifest(MINIMAL + "target:\n  name: y\n  type: float\n")
    assert manifest.target is not None and manifest.target.task == "regression"
    manifest = parse_manifest(MINIMAL + "target:\n  name: y\n  type: int\n")
    assert manifest.target is not None and manifest.target.task == "classification"
    with pytest.raises(ManifestError, match=r":10: target\.task: regression needs a float or int"):
        parse_manifest(MINIMAL + "target:\n  name: y\n  task: regression\n")


def test_target_may_not_be_an_input() -> None:
    with pytest.raises(ManifestError, match=r":9: target\.name: 'x' is also an input column"):
        parse_manifest(MINIMAL + "target:\n  name: x\n")


def test_entity_key_must_be_a_known_column() -> None:
    assert parse_manifest(MINIMAL + "entity_key: x\n").entity_key == ["x"]
    text = MINIMAL + "extra_columns: [id]\nentity_key: [x, id]\n"
    assert parse_manifest(text).entity_key == ["x", "id"]
    with pytest.raises(ManifestError, match=r":8: entity_key: unknown column 'id'") as info:
        parse_manifest(MINIMAL + "entity_key: id\n")
    assert "extra_columns" in info.value.hint


def test_gate_policy() -> None:
    gate = """\
gate:
  gold: tiny-gold
  metrics:
    - {name: accuracy, min: 0.7}
  non_inferiority: {metric: accuracy, max_drop: 0.01}
  segments: {column: x, metrics: {accuracy: 0.5}}
  custom_metrics: {cost: metrics:cost}
"""
    manifest = parse_manifest(MINIMAL + gate)
    assert manifest.gate is not None and manifest.gate.non_inferiority is not None
    assert manifest.gate.non_inferiority.resamples == 1000
    assert manifest.gate.custom_metrics == {"cost": "metrics:cost"}
    with pytest.raises(ManifestError, match=r":11: gate\.metrics\[0\]: a gate metric needs min"):
        parse_manifest(MINIMAL + gate.replace("{name: accuracy, min: 0.7}", "{name: accuracy}"))
    with pytest.raises(ManifestError, match=r":12: gate\.non_inferiority\.max_drop: .*greater"):
        parse_manifest(MINIMAL + gate.replace("max_drop: 0.01", "max_drop: -1"))
    with pytest.raises(ManifestError, match=r":13: gate\.segments\.column: unknown column 'z'"):
        parse_manifest(MINIMAL + gate.replace("column: x", "column: z"))
    with pytest.raises(ManifestError, match=r":14: gate\.custom_metrics\.cost: .*module:function"):
        parse_manifest(MINIMAL + gate.replace("metrics:cost", "cost.py"))


def test_schedule_cron_needs_five_fields() -> None:
    ok = parse_manifest(MINIMAL + "schedules:\n  - {job: retrain, cron: '0 6 * * 1'}\n")
    assert ok.schedules[0].cron == "0 6 * * 1"
    with pytest.raises(ManifestError, match=r":9: schedules\[0\]\.cron: '0 6 \* \*' is not a 5"):
        parse_manifest(MINIMAL + "schedules:\n  - {job: retrain, cron: '0 6 * *'}\n")


def test_model_can_be_built_in_python() -> None:
    manifest = Manifest.model_validate(
        {
            "name": "tiny",
            "kind": "stream",
            "entrypoints": {"train": "train:train"},
            "input_schema": [{"name": "x", "type": "bool"}],
        }
    )
    assert manifest.feature_names == ["x"]


def test_empty_values_are_refused() -> None:
    with pytest.raises(ManifestError, match=r":17: alarms\.rules\[0\]\.sinks: must not be empty"):
        parse_manifest(MINIMAL + ALARMS.replace("[log, ops-chat]", "[]"))
    with pytest.raises(ManifestError, match=r":6: input_schema\[0\]\.name: must not be empty"):
        parse_manifest(MINIMAL.replace("name: x", "name: ''"))
