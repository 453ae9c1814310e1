"""Redis key and channel names, in one place.

Every key one script touches shares the ``{revocation}`` hash tag, so that
the scripts run unchanged on Redis Cluster (all revocation state lives in
one slot; it is small, and one slot keeps each script atomic).
"""

from __future__ import annotations

__all__ = [
    "EVENTS_CHANNEL",
    "JTI_INDEX_KEY",
    "NOT_BEFORE_KEY",
    "SEQUENCE_KEY",
    "SUBJECT_INDEX_KEY",
    "USERS_INDEX_KEY",
    "address_failures_key",
    "email_failures_key",
    "jti_key",
    "subject_key",
    "user_key",
]

_REVOCATION = "revocation:{revocation}"

SEQUENCE_KEY = f"{_REVOCATION}:seq"
JTI_INDEX_KEY = f"{_REVOCATION}:jti-index"
NOT_BEFORE_KEY = f"{_REVOCATION}:not-before"
SUBJECT_INDEX_KEY = f"{_REVOCATION}:subject-index"
EVENTS_CHANNEL = f"{_REVOCATION}:events"

USERS_INDEX_KEY = "users:index"


def jti_key(jti: str) -> str:
    """Return the authoritative key of one revoked token id."""
    return f"{_REVOCATION}:jti:{jti}"


def subject_key(subject: str) -> str:
    """Return the authoritative key of one subject's not-before time."""
    return f"{_REVOCATION}:subject:{subject}"


def user_key(email: str) -> str:
    """Return the hash that holds one user."""
    return f"users:user:{email}"


def email_failures_key(email: str) -> str:
    """Return the counter of failed sign-ins for one email."""
    return f"signin:failures:email:{email}"


def address_failures_key(address: str) -> str:
    """Return the counter of failed sign-ins from one client address."""
    return f"signin:failures:address:{address}"
