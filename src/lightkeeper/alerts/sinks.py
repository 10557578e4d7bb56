"""Where alarms go: the log, a webhook (HMAC-signed JSON), a chat webhook (Slack-shaped),
e-mail (SMTP) and a ticket system (generic JSON, or Jira's issue API).

Each message carries the model, version, deployment, the evidence and the runbook entry.
A sender raises :class:`SinkFailed` with a reason when a delivery did not happen; the
dispatcher keeps the delivery pending and retries it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

if TYPE_CHECKING:
    from lightkeeper.settings import Settings
    from lightkeeper.store.alarms import Alarm, Delivery

log = logging.getLogger(__name__)
alarm_log = logging.getLogger("lightkeeper.alarms")

TIMEOUT = 10.0  # seconds per attempt; a slow sink is retried later, not waited for
SIGNATURE_HEADER = "X-Lightkeeper-Signature"
TIMESTAMP_HEADER = "X-Lightkeeper-Timestamp"
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}
_JIRA_PRIORITY = {"info": "Low", "warning": "Medium", "critical": "Highest"}


class SinkFailed(Exception):
    """A delivery did not happen; the message says why (kept as the delivery's last error)."""


Receipt = dict[str, Any] | None
Lookup = Callable[[int, str], Receipt]  # (alarm id, sink) -> the receipt of its "opened"


def payload(alarm: Alarm, message: str) -> dict[str, Any]:
    """The JSON body of an alarm message (the generic webhook's and the ticket's base)."""
    return {
        "event": f"alarm.{message}",
        "text": text(alarm, message),
        "alarm": {
            "id": alarm.id,
            "dedup_key": alarm.dedup_key,
            "rule": alarm.rule,
            "when": alarm.when,
            "severity": alarm.severity,
            "state": alarm.state,
            "title": alarm.title,
            "model": alarm.model,
            "version": alarm.version,
            "deployment": alarm.deployment,
            "occurrences": alarm.occurrences,
            "opened_at": alarm.opened_at.isoformat(),
            "resolved_at": alarm.resolved_at.isoformat() if alarm.resolved_at else None,
            "resolution": alarm.resolution,
        },
        "evidence": alarm.evidence,
        "runbook": alarm.runbook,
        "owner": alarm.owner,
    }


def text(alarm: Alarm, message: str) -> str:
    """The message as plain text: what, where, the evidence summary, what to do first."""
    head = "RESOLVED" if message == "resolved" else alarm.severity.upper()
    where = ", ".join(
        part
        for part in (
            f"deployment {alarm.deployment}" if alarm.deployment else "",
            f"model {alarm.model}" if alarm.model else "",
            f"version {alarm.version}" if alarm.version is not None else "",
        )
        if part
    )
    lines = [f"[{head}] {alarm.title}", f"{where} (rule {alarm.rule}, alarm {alarm.id})"]
    if message == "resolved":
        lines.append(f"resolved: {alarm.resolution or ''}".rstrip())
    elif alarm.occurrences > 1:
        lines.append(f"seen {alarm.occurrences} times since {alarm.opened_at:%Y-%m-%d %H:%M} UTC")
    summary = alarm.evidence.get("summary")
    if summary:
        lines.append(f"evidence: {summary}")
    if alarm.runbook:
        lines.append(
            f"runbook {alarm.runbook.get('code')}: "
            f"{str(alarm.runbook.get('meaning')).rstrip('.')}; "
            f"first action: {alarm.runbook.get('first_action')}"
        )
    else:
        lines.append("runbook: no entry for this error type in the manifest")
    owner = alarm.owner
    if owner.get("team") or owner.get("on_call"):
        lines.append(f"owner: {owner.get('team')} (on call: {owner.get('on_call')})")
    return "\n".join(lines)


def send(
    delivery: Delivery, alarm: Alarm, settings: Settings, receipts: Lookup | None = None
) -> Receipt:
    """Deliver one message; returns what the sink answered worth keeping.

    Raises:
        SinkFailed: the sink refused, timed out, or is misconfigured.
    """
    config, message = delivery.config, delivery.message
    kind = delivery.kind
    if kind == "log":
        alarm_log.log(_LEVELS.get(alarm.severity, logging.WARNING), "%s", text(alarm, message))
        return None
    if kind == "webhook":
        return _webhook(config, payload(alarm, message), delivery.id)
    if kind == "chat":
        return _post(_url(config), orjson.dumps(_chat(alarm, message)), {})
    if kind == "email":
        _email(config, alarm, message, settings)
        return None
    if kind == "ticket":
        return _ticket(config, alarm, message, delivery, receipts)
    raise SinkFailed(f"unknown sink kind {kind!r}")


def _url(config: dict[str, Any]) -> str:
    """The sink's url with ``${VAR}`` taken from the environment (secrets stay out of
    manifests: chat webhook URLs carry theirs)."""
    from lightkeeper.errors import SettingsError
    from lightkeeper.settings import expand_env

    try:
        return expand_env(str(config["url"]), what=f"the url of sink {config.get('name')}")
    except SettingsError as exc:
        raise SinkFailed(f"{exc} in the process that delivers alarms") from None


def _secret(config: dict[str, Any]) -> str | None:
    name = config.get("secret_env")
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        raise SinkFailed(
            f"the environment variable {name} (secret_env of sink {config.get('name')}) "
            "is not set in the process that delivers alarms"
        )
    return value


def _webhook(config: dict[str, Any], body: dict[str, Any], delivery_id: int) -> Receipt:
    raw = orjson.dumps(body)
    headers = {"X-Lightkeeper-Event": body["event"], "X-Lightkeeper-Delivery": str(delivery_id)}
    secret = _secret(config)
    if secret is not None:
        stamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = stamp
        headers[SIGNATURE_HEADER] = "sha256=" + _digest(secret, stamp, raw)
    return _post(_url(config), raw, headers)


def _digest(secret: str, stamp: str, body: bytes) -> str:
    """HMAC-SHA256 of ``"<timestamp>." + body``: the time is signed too, so a captured
    message cannot be replayed later."""
    return hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(
    secret: str,
    body: bytes,
    signature: str,
    timestamp: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Check a webhook's ``X-Lightkeeper-Signature`` and ``X-Lightkeeper-Timestamp`` (for
    receivers, and the tests): the right key, and sent within ``tolerance`` seconds."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    expected = "sha256=" + _digest(secret, timestamp, body)
    return age <= tolerance and hmac.compare_digest(expected, signature)


def _chat(alarm: Alarm, message: str) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook payload (Mattermost and Teams' Slack mode too)."""
    plain = text(alarm, message)
    icon = ":white_check_mark:" if message == "resolved" else ":rotating_light:"
    fields = [
        {"type": "mrkdwn", "text": f"*{name}*\n{value}"}
        for name, value in (
            ("Severity", alarm.severity),
            ("Deployment", alarm.deployment or "-"),
            ("Model", f"{alarm.model or '-'} v{alarm.version}" if alarm.version else alarm.model),
            ("Rule", alarm.rule),
        )
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alarm.title[:150]}},
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} {plain}"}},
    ]
    return {"text": plain, "blocks": blocks}


def _ticket(
    config: dict[str, Any],
    alarm: Alarm,
    message: str,
    delivery: Delivery,
    receipts: Lookup | None,
) -> Receipt:
    headers: dict[str, str] = {}
    secret = _secret(config)
    if secret is not None and ":" in secret:  # user:api-token, Jira Cloud's basic auth
        import base64

        headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    elif secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    url = _url(config)
    if config.get("format") != "jira":
        body = payload(alarm, message)
        body["ticket"] = {
            "title": alarm.title,
            "description": text(alarm, message),
            "severity": alarm.severity,
            "status": "resolved" if message == "resolved" else "open",
            "dedup_key": alarm.dedup_key,
            "labels": [
                "lightkeeper",
                alarm.rule,
                *([alarm.deployment] if alarm.deployment else []),
            ],
        }
        return _post(url, orjson.dumps(body), headers)
    if message == "resolved":  # a comment on the issue the alarm opened
        opened = receipts(alarm.id, delivery.sink) if receipts is not None else None
        key = (opened or {}).get("key")
        if not key:
            raise SinkFailed("the alarm's Jira issue is unknown (its opening was not delivered)")
        comment = {"body": text(alarm, message)}
        return _post(f"{url.rstrip('/')}/{key}/comment", orjson.dumps(comment), headers)
    issue = {
        "fields": {
            "project": {"key": config["project"]},
            "summary": alarm.title[:250],
            "description": text(alarm, message),
            "issuetype": {"name": config.get("issue_type") or "Task"},
            "priority": {"name": _JIRA_PRIORITY.get(alarm.severity, "Medium")},
            "labels": ["lightkeeper", alarm.rule.replace(" ", "-")],
        }
    }
    answer = _post(url, orjson.dumps(issue), headers)
    return {"key": answer.get("key"), "id": answer.get("id")} if answer else None


def _post(url: str, body: bytes, headers: dict[str, str]) -> Receipt:
    import httpx

    try:
        response = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise SinkFailed(f"POST {_safe(url)} failed: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 300:
        raise SinkFailed(
            f"POST {_safe(url)} answered {response.status_code}: {response.text[:200]}"
        )
    if "json" in response.headers.get("content-type", ""):
        try:
            answer = response.json()
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None
    return None


def _safe(url: str) -> str:
    """The URL without its path and query (chat webhook URLs carry their secret there)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/..."


def _email(config: dict[str, Any], alarm: Alarm, message: str, settings: Settings) -> None:
    import smtplib
    import ssl
    from email.message import EmailMessage

    server = urlsplit(_url(config) if config.get("url") else settings.smtp_url)
    mail = EmailMessage()
    head = "RESOLVED" if message == "resolved" else alarm.severity.upper()
    mail["Subject"] = f"[lightkeeper {head}] {alarm.title}"[:200]
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(config.get("to") or [])
    mail["X-Lightkeeper-Alarm"] = str(alarm.id)
    mail.set_content(text(alarm, message))
    secure = server.scheme == "smtps"
    port = server.port or (465 if secure else 25)
    host = server.hostname or "127.0.0.1"
    # a password only goes to a verified server; without one, STARTTLS is opportunistic
    # (internal relays often have self-signed certificates), as between mail servers
    verified = secure or bool(server.username)
    tls = ssl.create_default_context() if verified else ssl._create_unverified_context()
    try:
        client = (
            smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=tls)
            if secure
            else smtplib.SMTP(host, port, timeout=TIMEOUT)
        )
        with client:
            if not secure:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=tls)
                    client.ehlo()
                elif server.username:
                    raise SinkFailed(
                        f"SMTP {host}:{port} offers no STARTTLS; the password is not sent in "
                        "clear text (use smtps://)"
                    )
            if server.username:
                client.login(server.username, _secret(config) or "")
            client.send_message(mail)
    except ssl.SSLError as exc:
        raise SinkFailed(
            f"SMTP {host}:{port}: TLS failed ({exc}); the server's certificate must be valid "
            "for its name when a password is sent"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SinkFailed(f"SMTP {host}:{port} failed: {type(exc).__name__}: {exc}") from None
