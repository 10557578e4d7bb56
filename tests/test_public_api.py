"""The public surface is explicit, and every error code is documented."""

import re
from pathlib import Path

import lightkeeper
from lightkeeper.errors import ALL_ERRORS, LightkeeperError

DOCS = Path(__file__).parents[1] / "docs"


def test_all_is_sorted_and_complete() -> None:
    assert lightkeeper.__all__ == sorted(lightkeeper.__all__)
    for name in lightkeeper.__all__:
        assert getattr(lightkeeper, name) is not None
    public = {
        name
        for name, value in vars(lightkeeper).items()
        if not name.startswith("_")
        and not isinstance(value, type(lightkeeper))
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert public <= set(lightkeeper.__all__)


def test_every_error_class_is_exported_and_has_a_unique_code() -> None:
    codes = [cls.code for cls in ALL_ERRORS]
    assert len(codes) == len(set(codes))
    for cls in ALL_ERRORS:
        assert issubclass(cls, LightkeeperError)
        assert cls.__name__ in lightkeeper.__all__
        assert re.fullmatch(r"LK-[A-Z-]+", cls.code)


def test_every_error_code_is_documented() -> None:
    text = (DOCS / "errors.md").read_text()
    for cls in ALL_ERRORS:
        assert f"`{cls.code}`" in text, f"docs/errors.md lacks {cls.code}"
    documented = set(re.findall(r"`(LK-[A-Z-]+)`", text))
    assert documented <= {cls.code for cls in ALL_ERRORS}, "docs/errors.md lists unknown codes"
