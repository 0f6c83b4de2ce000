"""Watch thresholds: defaults from the seed, then a config file, `TRACEJURY_WATCH_*`, flags.

Later sources win: a flag beats the environment, which beats the file, which beats the
defaults. The config file is YAML (or JSON, a subset) holding the field names below, at the
top level or under a `watch:` key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tracejury.choices import WATCH_ENV_PREFIX
from tracejury.errors import ConfigError

ENV_PREFIX = WATCH_ENV_PREFIX


class WatchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # error loop: the same error fingerprint this many times within the window
    error_loop_count: int = Field(default=4, ge=2)
    error_loop_window: float = Field(default=600.0, gt=0, description="seconds")
    # tool loop: this many calls of one tool within the window, or one call repeated in a row
    tool_loop_calls: int = Field(default=10, ge=2)
    tool_loop_window: float = Field(default=60.0, gt=0, description="seconds")
    repeat_calls: int = Field(default=3, ge=2, description="same tool and arguments in a row")
    # stuck: no event for this long while the session has not ended
    stuck_after: float = Field(default=300.0, gt=0, description="seconds")
    # a session silent this long has ended (crashed or abandoned); also the catch-up horizon
    idle_end: float = Field(default=1800.0, gt=0, description="seconds")
    # MassGen reliability
    enforcement_retries: int = Field(default=2, ge=1, description="retries in one round")
    buffer_chars_lost: int = Field(default=5000, ge=0, description="alert above this")
    # cost runaway: USD per session; None = off
    max_session_cost: float | None = Field(default=None, gt=0)
    restarts: int = Field(default=3, ge=1, description="restarts of one session or turn")
    # mechanics
    poll_interval: float = Field(default=0.25, gt=0, le=5, description="seconds between reads")
    scan_interval: float = Field(default=1.0, gt=0, le=60, description="seconds between rescans")
    max_sessions: int = Field(default=10_000, ge=10, description="sessions kept in memory")


FIELDS = tuple(WatchSettings.model_fields)


def _file_values(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read watch config ({e.strerror or e})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0] if str(e) else "invalid YAML"
        raise ConfigError(f"{path}: invalid watch config ({first})") from None
    if doc is None:
        return {}
    if isinstance(doc, dict) and isinstance(doc.get("watch"), dict):
        doc = doc["watch"]
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: watch config must be a mapping of settings")
    unknown = sorted(str(k) for k in doc if str(k).replace("-", "_") not in FIELDS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown watch setting(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})"
        )
    return {str(k).replace("-", "_"): v for k, v in doc.items()}


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name == "config":
            continue
        if name not in FIELDS:
            raise ConfigError(f"{key}: unknown watch setting (known: {', '.join(FIELDS)})")
        out[name] = None if value.strip().lower() in ("", "none", "off") else value
    return out


def load_settings(
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> WatchSettings:
    """Defaults < config file (or `TRACEJURY_WATCH_CONFIG`) < environment < flags (None = unset)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"])
    sources: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        sources.append((str(config_file), _file_values(config_file)))
    sources.append(("environment", _env_values(env)))
    sources.append(("flags", {k: v for k, v in (flags or {}).items() if v is not None}))
    for _, vals in sources:
        values.update(vals)
    try:
        return WatchSettings.model_validate(values)
    except ValidationError as e:
        first = e.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ()))
        origin = next((src for src, vals in reversed(sources) if name in vals), "settings")
        hint = f"{ENV_PREFIX}{name.upper()}" if origin == "environment" else name
        raise ConfigError(f"watch setting {hint} ({origin}): {first['msg']}") from None
