"""One frozen settings object, read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Every field has an environment variable (see README)."""

    database_url: str = ""
    redis_url: str = ""
    data_dir: Path = ROOT / "var"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    https: bool = False
    session_idle_minutes: int = 120
    session_absolute_hours: int = 12
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_window_minutes: int = 15
    default_locale: str = "zh_CN"
    rollup_defer_seconds: float = 1.0
    queue_name: str = "fengqiao:queue"
    warning_repeat_count: int = 3  # early warnings (app/domain/warnings.py)
    warning_repeat_days: int = 30
    warning_group_size: int = 5
    warning_negative_run: int = 3
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``)."""
        e = os.environ if env is None else env
        return cls(
            database_url=e.get("DATABASE_URL", ""),
            redis_url=e.get("REDIS_URL", ""),
            data_dir=Path(e.get("FENGQIAO_DATA_DIR") or (ROOT / "var")).resolve(),
            secret_key=e.get("FENGQIAO_SECRET_KEY", ""),
            host=e.get("FENGQIAO_HOST", "127.0.0.1"),
            port=int(e.get("FENGQIAO_PORT", "8000")),
            debug=_bool(e.get("FENGQIAO_DEBUG")),
            https=_bool(e.get("FENGQIAO_HTTPS")),
            session_idle_minutes=int(e.get("FENGQIAO_SESSION_IDLE_MINUTES", "120")),
            session_absolute_hours=int(e.get("FENGQIAO_SESSION_ABSOLUTE_HOURS", "12")),
            login_max_failures_per_account=int(e.get("FENGQIAO_LOGIN_MAX_PER_ACCOUNT", "5")),
            login_max_failures_per_address=int(e.get("FENGQIAO_LOGIN_MAX_PER_ADDRESS", "20")),
            login_window_minutes=int(e.get("FENGQIAO_LOGIN_WINDOW_MINUTES", "15")),
            default_locale=e.get("FENGQIAO_LOCALE", "zh_CN"),
            rollup_defer_seconds=float(e.get("FENGQIAO_ROLLUP_DEFER_SECONDS", "1.0")),
            queue_name=e.get("FENGQIAO_QUEUE_NAME", "fengqiao:queue"),
            warning_repeat_count=int(e.get("FENGQIAO_WARNING_REPEAT_COUNT", "3")),
            warning_repeat_days=int(e.get("FENGQIAO_WARNING_REPEAT_DAYS", "30")),
            warning_group_size=int(e.get("FENGQIAO_WARNING_GROUP_SIZE", "5")),
            warning_negative_run=int(e.get("FENGQIAO_WARNING_NEGATIVE_RUN", "3")),
        )

    def with_dev_secret(self) -> Settings:
        """For ``fengqiao dev``: a secret generated once and kept in the data dir."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return replace(self, secret_key=path.read_text().strip())
