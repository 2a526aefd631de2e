"""Passwords, login sessions and login throttling. All state lives in PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app import db
from app.domain.roles import Scope
from app.services import audit
from app.settings import Settings

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-password")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user as the request sees it."""

    id: int
    username: str
    full_name: str
    role: str
    unit_id: int | None
    unit_name: str | None
    unit_path: str | None
    unit_tier: str | None
    department_id: int | None
    department_name: str | None
    is_head: bool
    locale: str | None
    session_id: int

    @property
    def scope(self) -> Scope:
        return Scope(
            user_id=self.id,
            role=self.role,
            unit_id=self.unit_id,
            unit_path=self.unit_path,
            department_id=self.department_id,
        )

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class LoginRefused(Exception):
    """Login failed; ``reason`` is ``invalid`` or ``throttled``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _throttled(settings: Settings, username: str, ip: str) -> bool:
    row = await db.fetchrow(
        "SELECT"
        " count(*) FILTER (WHERE username = {} AND NOT ok) AS by_account,"
        " count(*) FILTER (WHERE ip = {} AND NOT ok) AS by_address"
        " FROM login_attempt WHERE at > now() - make_interval(mins => {})",
        username,
        ip,
        settings.login_window_minutes,
    )
    return (
        row["by_account"] >= settings.login_max_failures_per_account
        or row["by_address"] >= settings.login_max_failures_per_address
    )


async def login(settings: Settings, username: str, password: str, ip: str, user_agent: str) -> str:
    """Check the credentials and open a new session; return its token (a fresh id every time).

    :raises LoginRefused: wrong credentials, inactive account, or too many recent failures.
    """
    username = username.strip()
    if await _throttled(settings, username, ip):
        await audit.record("login.throttled", actor_id=None, ip=ip, detail={"username": username})
        raise LoginRefused("throttled")
    user = await db.fetchrow(
        "SELECT id, password_hash, active FROM app_user WHERE username = {}", username
    )
    ok = verify_password(user["password_hash"] if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user["active"]
    async with db.transaction():
        await db.fetch(
            "INSERT INTO login_attempt (username, ip, ok, at) VALUES ({}, {}, {}, now())",
            username,
            ip,
            ok,
        )
        if not ok:
            await audit.record(
                "login.failed",
                actor_id=user["id"] if user else None,
                ip=ip,
                detail={"username": username},
            )
    if not ok:
        raise LoginRefused("invalid")
    token = secrets.token_urlsafe(32)
    async with db.transaction():
        await db.fetch(
            'INSERT INTO app_session (token_hash, "user", created_at, last_seen_at, ip, user_agent)'
            " VALUES ({}, {}, now(), now(), {}, {})",
            _token_hash(token),
            user["id"],
            ip,
            user_agent[:255],
        )
        await audit.record("login", actor_id=user["id"], ip=ip)
    return token


async def logout(token: str, ip: str = "") -> None:
    """Revoke the session behind ``token``."""
    row = await db.fetchrow(
        'DELETE FROM app_session WHERE token_hash = {} RETURNING "user"', _token_hash(token)
    )
    if row:
        await audit.record("logout", actor_id=row["user"], ip=ip)


async def revoke_user_sessions(user_id: int) -> None:
    """End every session of a user (deactivation, password reset)."""
    await db.fetch('DELETE FROM app_session WHERE "user" = {}', user_id)


async def current_user(settings: Settings, token: str) -> CurrentUser | None:
    """The user behind a session token, or None if the session is unknown or timed out.

    Timed-out sessions are deleted; ``last_seen_at`` is refreshed at most once a minute.
    """
    row = await db.fetchrow(
        "SELECT s.id AS session_id, s.created_at, s.last_seen_at, u.id, u.username, u.full_name,"
        " u.role, u.unit AS unit_id, u.department AS department_id, u.is_head, u.locale, u.active,"
        " un.name AS unit_name, un.path AS unit_path, un.tier AS unit_tier,"
        " d.name AS department_name"
        ' FROM app_session s JOIN app_user u ON u.id = s."user"'
        " LEFT JOIN unit un ON un.id = u.unit"
        " LEFT JOIN department d ON d.id = u.department"
        " WHERE s.token_hash = {}",
        _token_hash(token),
    )
    if row is None:
        return None
    now = datetime.now(UTC)
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    if not row["active"] or now - row["last_seen_at"] > idle or now - row["created_at"] > absolute:
        await db.fetch("DELETE FROM app_session WHERE id = {}", row["session_id"])
        return None
    if now - row["last_seen_at"] > timedelta(minutes=1):
        await db.fetch(
            "UPDATE app_session SET last_seen_at = now() WHERE id = {}", row["session_id"]
        )
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        role=row["role"],
        unit_id=row["unit_id"],
        unit_name=row["unit_name"],
        unit_path=row["unit_path"],
        unit_tier=row["unit_tier"],
        department_id=row["department_id"],
        department_name=row["department_name"],
        is_head=row["is_head"],
        locale=row["locale"],
        session_id=row["session_id"],
    )
