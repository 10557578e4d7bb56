"""A loaded model version: the frame it expects and a fast ``predict(rows)``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.lineage import VersionInfo


class Predictor:
    """A loaded model version with a fast ``predict(rows)`` path."""

    def __init__(self, info: VersionInfo, model: Any, *, native: bool) -> None:
        self.info = info
        self.model = model
        self.native = native
        self.feature_names: list[str] | None = _feature_names(model, info)

    @property
    def version(self) -> int:
        """The version number."""
        return self.info.version

    def frame(self, rows: Any) -> pd.DataFrame:
        """Rows (a DataFrame, a dict of columns, one record or a list of records) as a frame."""
        import pandas as pd

        if isinstance(rows, pd.DataFrame):
            frame = rows
        elif isinstance(rows, Mapping):
            first = next(iter(rows.values()), None)
            is_columns = isinstance(first, list | tuple) or hasattr(first, "__array__")
            frame = pd.DataFrame(rows if is_columns else [rows])
        else:
            frame = pd.DataFrame(rows if isinstance(rows, list) else list(rows))
        if self.feature_names is not None and list(frame.columns) != self.feature_names:
            missing = [c for c in self.feature_names if c not in frame.columns]
            if missing:
                from lightkeeper.errors import InvalidInput

                raise InvalidInput(
                    f"rows lack the feature(s) {', '.join(missing)}",
                    hint=f"send every feature: {', '.join(self.feature_names)}",
                )
            frame = frame[self.feature_names]
        return frame

    def predict(self, rows: Any) -> Any:
        """Predictions for rows (see :meth:`frame` for the accepted forms), as a numpy array."""
        import numpy as np

        return np.asarray(self.model.predict(self.frame(rows)))

    def predict_proba(self, rows: Any) -> Any | None:
        """Class probabilities where the model has them, else ``None``."""
        method = getattr(self.model, "predict_proba", None) if self.native else None
        return None if method is None else method(self.frame(rows))


def _feature_names(model: Any, info: VersionInfo) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is not None and schema.has_input_names():
        return list(schema.input_names())
    if info.lineage.data_columns:
        return list(info.lineage.data_columns)
    return None
