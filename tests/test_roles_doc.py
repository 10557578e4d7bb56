"""docs/roles.md shows exactly the permission table."""

from pathlib import Path

from lightkeeper.auth import PERMISSIONS, ROLES

LABELS = {
    "read": "read models",
    "model.train": "`train`",
    "gold.add": "`gold add`",
    "gold.approve": "`gold approve`",
    "gate.run": "`gate run`",
    "gate.accept": "`gate accept` (the hand-over)",
    "gate.override": "`gate accept --override",
    "deploy.create": "`deployments create`",
    "deploy.release": "`release`, `promote`",
    "deploy.rollback": "`rollback`",
    "batch.run": "`batch run`",
    "monitor.run": "`monitor drift`",
    "alarm.manage": "`alarms ack",
    "alarm.deliver": "`alarms deliver`",
    "tokens.manage": "`tokens create",
    "serving.predict": "`POST /predict`",
    "serving.metrics": "`GET /metrics`",
}


def test_roles_doc_matches_the_permission_table() -> None:
    text = (Path(__file__).parents[1] / "docs" / "roles.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| action"))
    columns = [c.strip() for c in header.strip("|").split("|")][1:]
    assert columns == list(ROLES)
    for action, label in LABELS.items():
        line = next(line for line in text.splitlines() if line.startswith(f"| {label}"))
        cells = [c.strip() for c in line.strip("|").split("|")][1:]
        allowed = {role for role, cell in zip(ROLES, cells, strict=True) if cell == "yes"}
        assert allowed == set(PERMISSIONS[action]), action
