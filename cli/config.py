"""``[tool.torchupgrade]`` in ``pyproject.toml``: found from the first path upwards (like ruff);
command-line options override it; an unknown key or a wrong type is a usage error naming it."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

KEYS = ("select", "ignore", "unsafe", "exclude", "extend-exclude", "per-file-ignores", "output-format", "jobs")


class ConfigError(ValueError):
    pass


@dataclass
class Config:
    path: Optional[Path] = None  # the pyproject.toml it came from
    select: Optional[Tuple[str, ...]] = None
    ignore: Optional[Tuple[str, ...]] = None
    unsafe: Optional[bool] = None
    exclude: Optional[Tuple[str, ...]] = None
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    output_format: Optional[str] = None
    jobs: Optional[int] = None

    @property
    def root(self) -> Optional[Path]:
        return self.path.parent if self.path else None


def find_pyproject(start: str) -> Optional[Path]:
    """The nearest ``pyproject.toml`` with a ``[tool.torchupgrade]`` table, from ``start`` (a file
    or directory) upwards."""
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for directory in [here, *here.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{candidate}: cannot read: {exc}") from None
            if "torchupgrade" in data.get("tool", {}):
                return candidate
    return None


def _codes(path: Path, key: str, value: Any) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.torchupgrade] {key} must be a list of rule codes, got {value!r}")
    codes = tuple(c.strip() for v in value for c in v.split(",") if c.strip())
    return codes


def _strings(path: Path, key: str, value: Any) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.torchupgrade] {key} must be a list of strings, got {value!r}")
    return tuple(value)


def load(path: Path) -> Config:
    from .formats import FORMATS

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("torchupgrade", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.torchupgrade] must be a table")
    config = Config(path=path)
    for key, value in table.items():
        if key not in KEYS:
            hint = f" (did you mean {key.replace('_', '-')!r}?)" if key.replace("_", "-") in KEYS else ""
            raise ConfigError(f"{path}: unknown key {key!r} in [tool.torchupgrade]{hint}; known keys: {', '.join(KEYS)}")
        if key in ("select", "ignore"):
            setattr(config, key, _codes(path, key, value))
        elif key == "unsafe":
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: [tool.torchupgrade] unsafe must be true or false, got {value!r}")
            config.unsafe = value
        elif key == "exclude":
            config.exclude = _strings(path, key, value)
        elif key == "extend-exclude":
            config.extend_exclude = _strings(path, key, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [tool.torchupgrade] per-file-ignores must be a table of pattern = [codes]")
            config.per_file_ignores = {pattern: _codes(path, f"per-file-ignores {pattern!r}", codes) for pattern, codes in value.items()}
        elif key == "output-format":
            if value not in FORMATS:
                raise ConfigError(f"{path}: [tool.torchupgrade] output-format must be one of {', '.join(FORMATS)}, got {value!r}")
            config.output_format = value
        elif key == "jobs":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{path}: [tool.torchupgrade] jobs must be a positive integer, got {value!r}")
            config.jobs = value
    return config


def discover_config(paths: List[str], explicit: Optional[str] = None) -> Config:
    """The configuration for a run: ``explicit`` (``--config``), else the nearest pyproject.toml
    with a ``[tool.torchupgrade]`` table above the first path (the current directory for ``-``)."""
    if explicit:
        return load(Path(explicit))
    first = next((p for p in paths if p != "-"), ".")
    found = find_pyproject(first)
    return load(found) if found else Config()
