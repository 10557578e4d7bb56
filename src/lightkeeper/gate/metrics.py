"""Custom metrics of the acceptance gate: ``"module:function"`` specs imported from the
project folder. The metrics themselves live in :mod:`lightkeeper.metrics`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightkeeper.errors import InvalidInput
from lightkeeper.metrics import CustomFn, call_custom
from lightkeeper.project_code import fresh_import


@dataclass(frozen=True)
class _LoadedMetric:
    spec: str
    fn: Callable[..., Any]

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        return call_custom(f"custom metric {self.spec!r}", self.fn, y_true, y_pred)


def load_custom_metric(spec: str, project_dir: Path) -> CustomFn:
    """Import ``"module:function"`` from the project folder as a custom metric.

    The returned callable runs ``function(y_true, y_pred)``, checks that it returns a
    number and names ``spec`` in its errors.

    Raises:
        InvalidInput: malformed spec, import error, missing or not callable attribute.
    """
    module_name, sep, func_name = spec.partition(":")

    define = f"define def {func_name}(y_true, y_pred) -> float"

    def error(what: str, hint: str = define) -> InvalidInput:
        return InvalidInput(f"custom metric {spec!r}: {what}", hint=hint)

    if not sep or not all(part.isidentifier() for part in [*module_name.split("."), func_name]):
        raise error("not of the form 'module:function'", "e.g. 'business:profit' for business.py")
    try:
        module = fresh_import(Path(project_dir), module_name)
    except Exception as exc:
        what = f"cannot import {module_name!r} from {project_dir}: {type(exc).__name__}: {exc}"
        raise error(what, "check the module is in the project folder and imports") from exc
    fn = getattr(module, func_name, None)
    if fn is None:
        raise error(f"module {module_name!r} has no {func_name!r}")
    if not callable(fn):
        raise error(f"{func_name!r} is a {type(fn).__name__}, not callable")
    return _LoadedMetric(spec, fn)
