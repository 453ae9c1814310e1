"""Verify access tokens: pinned algorithms, required claims, then the cache.

Verification is a checklist of small ``_validate_*`` steps; each failure
raises an :class:`~service.errors.InvalidTokenError` whose message names the
header field or claim at fault. Revocation is not checked here.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from ..errors import InvalidTokenError, TokenExpiredError
from .cache import VerifiedTokenCache
from .claims import AccessClaims, is_valid_jti
from .issuer import ACCESS_TOKEN_TYPE
from .keys import SUPPORTED_ALGORITHMS, KeySet, SigningKey

__all__ = ["MAX_TOKEN_LENGTH", "TokenVerifier"]

logger = logging.getLogger(__name__)

# Far above any token we issue; longer strings are refused before parsing.
MAX_TOKEN_LENGTH = 4096

REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti")

_MAX_SUBJECT_LENGTH = 256
# Unix seconds in the year 9999: later times are garbage, not long lifetimes.
_LATEST_TIME = 253_402_300_800
_MAX_ROLES = 32
# Three base64url segments (RFC 7515 7.1); the signature may be empty only
# for alg none, which is refused later with its own message.
_SEGMENT = r"[A-Za-z0-9_-]"
_COMPACT_SERIALIZATION = re.compile(rf"{_SEGMENT}+\.{_SEGMENT}+\.{_SEGMENT}*")


class TokenVerifier:
    """Verify tokens against a key set, remembering the ones that passed."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        leeway: int,
        cache_size: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._clock = clock
        self.cache = VerifiedTokenCache(cache_size)

    def replace_keys(self, keys: KeySet) -> None:
        """Verify against new keys from now on, forgetting every cached token."""
        self._keys = keys
        self.cache.clear()

    def verify(self, token: str) -> AccessClaims:
        """Return the claims of a valid token, or raise InvalidTokenError."""
        claims = self.cache.get(token)
        if claims is None:
            claims = self._verify_fully(token)
            self.cache.put(token, claims)
        elif claims.expires_at + self._leeway <= self._clock():
            self.cache.discard(token)
            raise TokenExpiredError("token has expired")
        return claims

    def read_revocable(self, token: str) -> AccessClaims:
        """Return the claims of a genuine token of ours, even if it has expired.

        An administrator may revoke a token it holds; its signature must
        verify, so that nobody revokes ids through forged tokens.
        """
        return self._verify_fully(token, verify_exp=False)

    def _verify_fully(self, token: str, *, verify_exp: bool = True) -> AccessClaims:
        _validate_length(token)
        header = _read_header(token)
        key = self._select_key(header)
        payload = self._decode(token, key, verify_exp=verify_exp)
        return _claims_from_payload(payload)

    def _select_key(self, header: Mapping[str, Any]) -> SigningKey:
        _validate_typ(header)
        _validate_crit(header)
        _validate_alg(header)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("header kid is missing")
        key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError("header kid names no known key")
        if header["alg"] != key.algorithm:
            raise InvalidTokenError("header alg does not match the key")
        return key

    def _decode(
        self, token: str, key: SigningKey, *, verify_exp: bool
    ) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.verification_material,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "strict_aud": True,
                    "verify_exp": verify_exp,
                },
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpiredError("token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError(f"claim {exc.claim} is missing") from None
        except jwt.InvalidAudienceError:
            raise InvalidTokenError("claim aud is not this service") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError("claim iss is not this service") from None
        except jwt.ImmatureSignatureError as exc:
            raise InvalidTokenError(f"token is not yet valid: {exc}") from None
        except jwt.exceptions.InvalidJTIError:
            raise InvalidTokenError("claim jti must be a string") from None
        except jwt.exceptions.InvalidSubjectError:
            raise InvalidTokenError("claim sub must be a string") from None
        except jwt.InvalidIssuedAtError:
            raise InvalidTokenError("claim iat must be a number") from None
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"token is malformed: {exc}") from None
        except (OverflowError, ValueError, TypeError):
            # PyJWT compares claim values as numbers; absurd ones raise here.
            raise InvalidTokenError("token claims are malformed") from None


def _validate_length(token: str) -> None:
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidTokenError("token is too long")
    if _COMPACT_SERIALIZATION.fullmatch(token) is None:
        raise InvalidTokenError("token is not a JWS compact serialization")


def _read_header(token: str) -> dict[str, Any]:
    # The shape check admitted only base64url characters, so a plain decode
    # is strict here; PyJWT's own header reader would decode every segment.
    segment = token.partition(".")[0]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidTokenError("header is malformed") from None

    if not isinstance(header, dict):
        raise InvalidTokenError("header is malformed")
    return header


def _validate_typ(header: Mapping[str, Any]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in {
        ACCESS_TOKEN_TYPE,
        "application/" + ACCESS_TOKEN_TYPE,
    }:
        raise InvalidTokenError(f"header typ must be {ACCESS_TOKEN_TYPE}")


def _validate_crit(header: Mapping[str, Any]) -> None:
    # We understand no JWS extensions, so RFC 7515 4.1.11 says reject.
    if "crit" in header:
        raise InvalidTokenError("header crit names extensions this service lacks")


def _validate_alg(header: Mapping[str, Any]) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGORITHMS:
        raise InvalidTokenError("header alg is not accepted")


def _claims_from_payload(payload: Mapping[str, Any]) -> AccessClaims:
    return AccessClaims(
        subject=_validate_subject(payload["sub"]),
        jti=_validate_jti(payload["jti"]),
        issued_at=_validate_number("iat", payload["iat"]),
        expires_at=_validate_number("exp", payload["exp"]),
        email=_validate_optional_text("email", payload.get("email")),
        name=_validate_optional_text("name", payload.get("name")),
        roles=_validate_roles(payload.get("roles", [])),
    )


def _validate_subject(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_SUBJECT_LENGTH:
        raise InvalidTokenError("claim sub must be a non-empty string")
    return value


def _validate_jti(value: object) -> str:
    if not is_valid_jti(value):
        raise InvalidTokenError("claim jti must be a short URL-safe string")
    return str(value)


def _validate_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"claim {name} must be a number")
    if not 0 <= value < _LATEST_TIME:
        raise InvalidTokenError(f"claim {name} is out of range")
    return float(value)


def _validate_optional_text(name: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > _MAX_SUBJECT_LENGTH:
        raise InvalidTokenError(f"claim {name} must be a short string")
    return value


def _validate_roles(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > _MAX_ROLES:
        raise InvalidTokenError("claim roles must be a list of strings")
    if not all(isinstance(role, str) for role in value):
        raise InvalidTokenError("claim roles must be a list of strings")
    return tuple(value)
