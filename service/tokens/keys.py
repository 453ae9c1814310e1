"""Signing keys, each named by a ``kid``, and the set a verifier accepts.

Only HMAC keys exist today; an asymmetric key slots in as another
:class:`SigningKey` whose signing and verification material differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SUPPORTED_ALGORITHMS", "KeySet", "SigningKey"]

# Pinned: a token naming any other algorithm is rejected before verification.
SUPPORTED_ALGORITHMS = frozenset({"HS256"})


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key: its id, its algorithm and its signing and verification material."""

    kid: str
    algorithm: str
    signing_material: bytes
    verification_material: bytes

    @classmethod
    def hmac(cls, secret: bytes, algorithm: str = "HS256") -> SigningKey:
        """Build an HMAC key with a ``kid`` derived from it that reveals nothing."""
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported algorithm {algorithm}")
        kid = hashlib.sha256(b"kid:" + secret).hexdigest()[:16]
        return cls(kid, algorithm, secret, secret)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, algorithm={self.algorithm!r})"


class KeySet:
    """The key new tokens are signed with, and every key tokens may carry."""

    def __init__(self, active: SigningKey, retired: Iterable[SigningKey] = ()) -> None:
        self.active = active
        self._by_kid = {key.kid: key for key in (*retired, active)}
        self.version = hashlib.sha256(
            ",".join(sorted(self._by_kid)).encode()
        ).hexdigest()[:16]

    def get(self, kid: str) -> SigningKey | None:
        """Return the key with this ``kid``, or None when it is unknown."""
        return self._by_kid.get(kid)
