"""The alerts tests' workspace: a credit model whose manifest sends drift alarms to every
kind of sink (their addresses from the environment, so each test points them at its own
recording servers)."""

from __future__ import annotations

from lightkeeper.auth import Principal

ANA = Principal("ana", "data-scientist")
OPS = Principal("olga", "operator")
HOOK_SECRET = "s3cret-hmac-key"
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
