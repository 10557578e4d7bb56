"""Alerts tests share one workspace built once through the real gate, copied per test;
each test gets its own recording HTTP server and SMTP server on 127.0.0.1.

Version 1 of ``credit`` is released to the online deployment ``credit-online``; its
manifest sends drift alarms to every kind of sink, their addresses taken from the
environment so that each test points them at its own recording servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper
from lightkeeper.testing import Recorder, build_workspace, copy_workspace, credit_project, workspace
from support import HOOK_SECRET, Inbox

ALERTS = """
runbook:
  - code: LK-DRIFT
    meaning: the traffic no longer looks like the training data
    first_action: check the upstream feed; retrain if the change is real
  - code: LK-MODEL-ERROR
    meaning: the model raised while scoring
    first_action: roll back to the previous version
alarms:
  rules:
    - name: drift
      when: drift
      severity: warning
      error_type: LK-DRIFT
      sinks: [log, hook, chat, mail, tickets]
    - name: drift-most
      when: drift
      threshold: 0.5
      severity: critical
      sinks: [log]
    - name: accuracy-low
      when: performance
      threshold: 0.7
      severity: critical
      sinks: [log]
    - {name: canary-back, when: canary_rolled_back, sinks: [log]}
    - {name: batch-failed, when: batch_run_failed, severity: critical, sinks: [log]}
    - name: silent
      when: life_signal_late
      severity: critical
      sinks: [hook]
    - name: gate-failed
      when: gate_failed
      error_type: LK-MODEL-ERROR
      sinks: [hook]
  sinks:
    - {name: hook, kind: webhook, url: "${LK_TEST_HOOKS}/hook", secret_env: LK_TEST_HOOK_SECRET}
    - {name: chat, kind: chat, url: "${LK_TEST_HOOKS}/chat/T000/B000/XXXX"}
    - {name: mail, kind: email, url: "${LK_TEST_SMTP}", to: [oncall@example.com]}
    - name: tickets
      kind: ticket
      url: "${LK_TEST_HOOKS}/rest/api/2/issue"
      format: jira
      project: OPS
monitoring:
  window: 1d
"""


@pytest.fixture(scope="session")
def alerts_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("alerts-workspace")
    project = credit_project(root, drop=("runbook", "alarms"), append=ALERTS)
    return build_workspace(
        root / "home", [project], deployment="credit-online", mlflow_store=mlflow_template
    )


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """The webhook, chat and ticket systems."""
    with Recorder() as recorder:
        monkeypatch.setenv("LK_TEST_HOOKS", recorder.url)
        monkeypatch.setenv("LK_TEST_HOOK_SECRET", HOOK_SECRET)
        yield recorder


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The mail server."""
    with Inbox() as server:
        monkeypatch.setenv("LK_TEST_SMTP", server.url)
        yield server


@pytest.fixture
def home(alerts_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_workspace(alerts_workspace, tmp_path / "home")


@pytest.fixture
def lk(home: Path, hooks: Recorder, inbox: Inbox) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace, its sinks listening."""
    app = workspace(home)
    yield app
    app.close()
