"""Outgoing email: every message is first written to the outbox, then sent if SMTP is set up.

The SMTP server comes from the profile's `email` section (host, port, STARTTLS, user, sender);
its password from the environment (`HIBAHBANSOS_SMTP_PASSWORD`, put there by the deploy from
the region's vault), never from the profile. Without `email.smtp_host` messages stay in the
outbox, where the administrator reads them (/admin/kotak-keluar). Queueing happens inside the
transaction of the change it reports; sending happens after it commits, so a slow or failing
mail server never rolls back a decision. A failure is kept on the row (its type only: SMTP
errors can repeat addresses) and retried by `hibahbansos outbox send`.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from email.message import EmailMessage

import sqlite_utils

from hibahbansos.db import transaction

PASSWORD_ENV = "HIBAHBANSOS_SMTP_PASSWORD"
MAX_ATTEMPTS = 5


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def queue(db: sqlite_utils.Database, to_addr: str | None, subject: str, body: str) -> int | None:
    """Put a message in the outbox (inside the caller's transaction); None when there is no address."""
    if not to_addr:
        return None
    with transaction(db):
        cur = db.execute(
            "INSERT INTO outbox (to_addr, subject, body, created_at) VALUES (?, ?, ?, ?)",
            [to_addr, subject, body, _now()],
        )
    return cur.lastrowid


def smtp_configured(region) -> bool:
    return bool((region.data.get("email") or {}).get("smtp_host"))


def deliver_pending(db: sqlite_utils.Database, region, limit: int = 50) -> tuple[int, int]:
    """Send unsent messages through the profile's SMTP server; returns (sent, failed).

    Does nothing (0, 0) when no SMTP server is configured: the outbox is then the delivery.
    """
    if not smtp_configured(region):
        return 0, 0
    cfg = region.data["email"]
    rows = db.execute(
        "SELECT id, to_addr, subject, body FROM outbox WHERE sent_at IS NULL AND attempts < ? ORDER BY id LIMIT ?",
        [MAX_ATTEMPTS, limit],
    ).fetchall()
    if not rows:
        return 0, 0
    sent = failed = 0
    sender = cfg.get("sender") or region.data["contact"]["email"]
    try:
        smtp = smtplib.SMTP(cfg["smtp_host"], int(cfg.get("smtp_port") or 587), timeout=15)
    except (OSError, smtplib.SMTPException) as exc:
        _fail_all(db, [r[0] for r in rows], exc)
        return 0, len(rows)
    try:
        if cfg.get("starttls", True):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("username"):
            smtp.login(cfg["username"], os.environ.get(PASSWORD_ENV, ""))
        for msg_id, to_addr, subject, body in rows:
            msg = EmailMessage()
            msg["From"] = sender
            msg["To"] = to_addr
            msg["Subject"] = subject
            msg.set_content(body)
            try:
                smtp.send_message(msg)
            except (OSError, smtplib.SMTPException) as exc:
                _fail_all(db, [msg_id], exc)
                failed += 1
                continue
            with transaction(db):
                db.execute(
                    "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
                    [_now(), msg_id],
                )
            sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        remaining = [r[0] for r in rows][sent + failed :]
        _fail_all(db, remaining, exc)
        failed += len(remaining)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return sent, failed


def _fail_all(db: sqlite_utils.Database, ids: list[int], exc: BaseException) -> None:
    # Only the error's type: SMTP replies may echo the recipient's address.
    with transaction(db):
        for msg_id in ids:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", [type(exc).__name__, msg_id]
            )


def recent(db: sqlite_utils.Database, limit: int = 100, before: int | None = None) -> list[dict]:
    """The newest messages, for the administrator's outbox page."""
    sql = "SELECT id, to_addr, subject, body, created_at, sent_at, attempts, last_error FROM outbox"
    params: list = []
    if before:
        sql += " WHERE id < ?"
        params.append(before)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    cols = ("id", "to_addr", "subject", "body", "created_at", "sent_at", "attempts", "last_error")
    return [dict(zip(cols, r)) for r in db.execute(sql, params)]
