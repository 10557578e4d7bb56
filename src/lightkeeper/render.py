"""The one Jinja environment behind every HTML page and report the package renders.

Templates live in ``lightkeeper/templates``, stylesheets in ``lightkeeper/static``. A
report has to read offline as a single file (opened from disk, attached to an alarm), so
templates inline a stylesheet with ``{{ stylesheet("report.css") }}`` instead of linking
it. Autoescaping is on and a missing value is an error rather than an empty string.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    import jinja2

__all__ = ["STATIC", "TEMPLATES", "environment", "render", "stylesheet"]

_PACKAGE = Path(__file__).resolve().parent
TEMPLATES = _PACKAGE / "templates"
STATIC = _PACKAGE / "static"


def render(template: str, /, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(context)


@functools.cache
def environment() -> jinja2.Environment:
    """The package's Jinja environment, built once: autoescaped, strict, whitespace-trimmed."""
    import jinja2  # imported here so importing a feature stays cheap

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # an included partial ends its last line
        auto_reload=False,  # the templates ship with the package and do not change under it
    )
    env.globals["stylesheet"] = stylesheet
    return env


@functools.cache
def stylesheet(name: str) -> Markup:
    """The text of ``static/<name>``, safe to inline in a ``<style>`` block (it is ours)."""
    return Markup((STATIC / name).read_text(encoding="utf-8"))
