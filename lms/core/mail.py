"""Outgoing e-mail through SMTP when a server is configured, logged otherwise."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    """Whether ``RELAIS_MAIL_SERVER`` is set."""
    return bool(current_app.config["MAIL_SERVER"])


def send_mail(*, to: str, subject: str, body: str) -> bool:
    """Send a plain-text e-mail; returns False (and logs the subject) when no server is set.

    Call it only after the transaction that the mail reports has been committed.
    """
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return send_message(msg)


def send_message(msg: EmailMessage) -> bool:
    """Send a prepared message (its own headers and parts; ``From`` is set here); returns
    False (and logs the subject) when no server is set.

    :raise OSError: the server is out of reach or refuses the message (``smtplib`` errors).
    """
    if not mail_configured():
        log.info("mail not sent (no RELAIS_MAIL_SERVER): to=%s subject=%s", msg["To"],
                 msg["Subject"])
        return False
    cfg = current_app.config
    if "From" not in msg:
        msg["From"] = cfg["MAIL_FROM"]
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=10) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
        smtp.send_message(msg)
    return True
