"""Sink configuration and retry timing, without servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lightkeeper.alerts.dispatch import backoff
from lightkeeper.errors import ManifestError
from lightkeeper.manifest import parse_manifest
from support import TINY_MANIFEST


def test_retries_back_off_from_thirty_seconds_to_an_hour_and_never_stop() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (30, 60, 120)]
    assert backoff(8) == timedelta(hours=1) and backoff(500) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        ("{name: t, kind: ticket, url: 'https://x/issue', format: jira}", "needs the project key"),
        ("{name: h, kind: webhook, url: 'ftp://x'}", r"needs an http\(s\) url"),
        ("{name: m, kind: email, to: [a@b.c], url: 'http://x'}", "url is an SMTP server"),
        ("{name: m, kind: email}", "needs recipients"),
    ],
)
def test_a_misconfigured_sink_is_refused_by_name(sink: str, message: str) -> None:
    text = TINY_MANIFEST.format(name="m", module="x") + f"alarms:\n  sinks:\n    - {sink}\n"
    with pytest.raises(ManifestError, match=message):
        parse_manifest(text)


def test_urls_may_come_from_the_environment() -> None:
    text = TINY_MANIFEST.format(name="m", module="x") + (
        "alarms:\n  sinks:\n    - {name: c, kind: chat, url: '${OPS_CHAT_URL}'}\n"
    )
    [sink] = parse_manifest(text).alarms.sinks
    assert sink.url == "${OPS_CHAT_URL}"
