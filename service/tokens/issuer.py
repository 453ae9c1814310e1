"""Issue signed access tokens (RFC 9068 profile) with a unique ``jti``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from .claims import AccessClaims
from .keys import KeySet

__all__ = ["ACCESS_TOKEN_TYPE", "IssuedToken", "TokenIssuer", "new_jti"]

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105  # a media type (RFC 9068), not a secret

# 128 bits of randomness, URL-safe: 22 characters.
_JTI_BYTES = 16


def new_jti() -> str:
    """Return a fresh random token id of 128 bits."""
    return secrets.token_urlsafe(_JTI_BYTES)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly signed token and the claims it carries."""

    token: str
    claims: AccessClaims
    lifetime: int


class TokenIssuer:
    """Sign access tokens with the active key of a key set."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        lifetime: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._clock = clock

    def issue(
        self, *, subject: str, email: str, name: str, roles: tuple[str, ...]
    ) -> IssuedToken:
        """Sign a token for this subject, valid for the configured lifetime."""
        # Milliseconds in iat let a subject's not-before tell apart tokens
        # issued within the same second as a revoke-all (RFC 7519 allows it).
        issued_at = round(self._clock(), 3)
        claims = AccessClaims(
            subject=subject,
            jti=new_jti(),
            issued_at=issued_at,
            expires_at=int(issued_at) + self._lifetime,
            email=email,
            name=name,
            roles=roles,
        )
        return IssuedToken(self._sign(claims), claims, self._lifetime)

    def _sign(self, claims: AccessClaims) -> str:
        key = self._keys.active
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.subject,
            "iat": claims.issued_at,
            "exp": int(claims.expires_at),
            "jti": claims.jti,
            "email": claims.email,
            "name": claims.name,
            "roles": list(claims.roles),
        }
        headers = {"typ": ACCESS_TOKEN_TYPE, "kid": key.kid}
        return jwt.encode(
            payload, key.signing_material, algorithm=key.algorithm, headers=headers
        )
