"""Profiles: every setting of one strategy, validated by the engine's own rules."""

from __future__ import annotations

import json
import os
import warnings as _warnings
from typing import Any, Dict, List, Tuple, Union

from . import _strangle
from ._convert import _jsonable


class Profile:
    """Every setting of one strangle strategy, validated by the engine's own rules.

    Build from keyword arguments (``Profile(name="btc", delta_band={"low": 0.1, "high": 0.15})``),
    a dict (:meth:`from_dict`) or a TOML/JSON file (:meth:`from_file`). An invalid profile raises
    :class:`ProfileError`, whose ``fields`` lists every bad field. Settings read as attributes.
    """

    __slots__ = ("_data",)

    def __init__(self, **settings: Any) -> None:
        self._data: Dict[str, Any] = json.loads(_strangle.profile_from_json(json.dumps(_jsonable(settings))))
        self._warn()

    @classmethod
    def from_dict(cls, settings: Dict[str, Any]) -> "Profile":
        """A profile from a dict of settings (missing ones take their defaults)."""
        return cls(**settings)

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "Profile":
        """A profile from a ``.toml`` or ``.json`` file; a ``gates.skip_dates_file`` names a
        calendar file beside it whose ``skip_dates`` are added to the profile's."""
        p = cls.__new__(cls)
        p._data = json.loads(_strangle.profile_from_file(os.fspath(path)))
        p._warn()
        return p

    @property
    def warnings(self) -> List[Tuple[str, str]]:
        """Settings that are valid but probably not meant, as (field, message): what
        ``strangle check``, ``strangle run`` and the API warn about (``max_loss_pct = 0.4`` is
        0.4 %, not 40 %)."""
        return [tuple(w) for w in _strangle.profile_warnings(self._json())]  # type: ignore[misc]

    def _warn(self) -> None:
        # Said when a profile is made, as every command of the CLI does: a UserWarning each.
        for field, message in self.warnings:
            _warnings.warn(f"{field}: {message}", UserWarning, stacklevel=3)

    def to_dict(self) -> Dict[str, Any]:
        """Every setting, defaults included (decimals as :class:`~decimal.Decimal`)."""
        return _strangle.profile_view(self._json())

    def to_toml(self) -> str:
        """The profile as TOML, as `strangle` reads it."""
        return _strangle.profile_to_toml(json.dumps(self._data))

    def replace(self, **changes: Any) -> "Profile":
        """A copy with some settings changed (validated again)."""
        d = json.loads(json.dumps(self._data))
        d.update(_jsonable(changes))
        return Profile(**d)

    def _json(self) -> str:
        return json.dumps(self._data)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._data:
            raise AttributeError(name)
        return _strangle.profile_view(self._json())[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self._data == other._data

    def __repr__(self) -> str:
        return f"Profile(name={self._data.get('name')!r}, underlying={self._data.get('underlying')!r})"
