"""User accounts and their roles.

Passwords are hashed with scrypt (Werkzeug's default); a hash never leaves this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from hibahbansos import roles as R
from hibahbansos.db import transaction
from hibahbansos.errors import HibahBansosError

MIN_PASSWORD_LENGTH = 12
# Compared against when the user does not exist, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-timing")


@dataclass
class User:
    id: int
    username: str
    full_name: str
    email: str | None
    is_active: bool
    roles: dict[str, str | None] = field(default_factory=dict)  # role -> opd_code

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def opd_code(self) -> str | None:
        """The OPD a reviewer is scoped to; None when the user is not a reviewer."""
        return self.roles.get(R.OPD_REVIEWER)

    @property
    def is_staff(self) -> bool:
        return any(r in R.STAFF_ROLES for r in self.roles)


class UserError(HibahBansosError):
    """A user account cannot be created or changed as asked."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_password_strength(password: str) -> None:
    """Raises UserError when the password is too weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password.lower() == password or password.upper() == password or not any(c.isdigit() for c in password):
        raise UserError("the password needs upper- and lower-case letters and a digit")


def create_user(
    db: sqlite_utils.Database,
    username: str,
    password: str,
    full_name: str,
    email: str | None = None,
    roles: dict[str, str | None] | None = None,
) -> int:
    """Create an active user; raises UserError for a taken name, a weak password or a bad role."""
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise UserError("a username uses letters, digits, '.', '_' or '-'")
    check_password_strength(password)
    with transaction(db):
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise UserError(f"username {username!r} is taken")
        cur = db.execute(
            "INSERT INTO users (username, full_name, email, password_hash, is_active, created_at)"
            " VALUES (?, ?, ?, ?, 1, ?)",
            [username, full_name.strip(), email, generate_password_hash(password), _now()],
        )
        user_id = cur.lastrowid
        set_roles(db, user_id, roles or {})
    return user_id


def set_roles(db: sqlite_utils.Database, user_id: int, roles: dict[str, str | None]) -> None:
    """Replace a user's roles; an OPD reviewer needs an OPD code, others must not have one."""
    for role, opd in roles.items():
        if role not in R.ROLES:
            raise UserError(f"unknown role {role!r}; roles are {', '.join(R.ROLES)}")
        if R.ROLES[role].needs_opd and not opd:
            raise UserError(f"role {role} needs an OPD code")
    with transaction(db):
        db.execute("DELETE FROM user_roles WHERE user_id = ?", [user_id])
        for role, opd in roles.items():
            db.execute(
                "INSERT INTO user_roles (user_id, role, opd_code) VALUES (?, ?, ?)",
                [user_id, role, opd if R.ROLES[role].needs_opd else None],
            )


def set_password(db: sqlite_utils.Database, user_id: int, password: str) -> None:
    check_password_strength(password)
    with transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [generate_password_hash(password), user_id])


def get_user(db: sqlite_utils.Database, user_id: int) -> User | None:
    row = db.execute("SELECT id, username, full_name, email, is_active FROM users WHERE id = ?", [user_id]).fetchone()
    if row is None:
        return None
    roles = {r: o for r, o in db.execute("SELECT role, opd_code FROM user_roles WHERE user_id = ?", [user_id])}
    return User(row[0], row[1], row[2], row[3], bool(row[4]), roles)


def authenticate(db: sqlite_utils.Database, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    row = db.execute(
        "SELECT id, password_hash, is_active FROM users WHERE username = ?", [username.strip().lower()]
    ).fetchone()
    if row is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(row[1], password) or not row[2]:
        return None
    with transaction(db):
        db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", [_now(), row[0]])
    return get_user(db, row[0])


def count_admins(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM user_roles WHERE role = ?", [R.ADMIN]).fetchone()[0]


def update_user(db: sqlite_utils.Database, user_id: int, full_name: str, email: str | None, is_active: bool) -> None:
    """Change a user's name, email and whether the account may log in."""
    with transaction(db):
        db.execute(
            "UPDATE users SET full_name = ?, email = ?, is_active = ? WHERE id = ?",
            [full_name.strip(), email or None, int(is_active), user_id],
        )


def list_users(db: sqlite_utils.Database) -> list[User]:
    """Every user with their roles, by username."""
    ids = [r[0] for r in db.execute("SELECT id FROM users ORDER BY username")]
    return [u for u in (get_user(db, i) for i in ids) if u is not None]
