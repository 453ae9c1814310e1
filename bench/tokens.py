"""Sign access tokens as the instances would, without a sign-in per token.

A sign-in costs an argon2id hash, about as long as a thousand protected
requests; benchmarks that need thousands of tokens would measure argon2.
The tokens are signed by the service's own issuer with the fleet's secret,
so the instances cannot tell them from tokens their login route issued.
"""

from __future__ import annotations

from pathlib import Path

from service.config import Settings
from service.tokens.issuer import TokenIssuer
from service.tokens.keys import KeySet, SigningKey

__all__ = ["TokenMint"]


class TokenMint:
    """Issue tokens for the key, issuer, audience and lifetime of settings."""

    def __init__(self, settings: Settings) -> None:
        self._issuer = TokenIssuer(
            KeySet(SigningKey.hmac(settings.jwt_secret)),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            lifetime=settings.token_lifetime,
        )

    def one(self, subject: str = "bench-user") -> str:
        """Return one fresh token (a new jti) for subject."""
        issued = self._issuer.issue(
            subject=subject, email="bench@example.com", name="Bench", roles=()
        )
        return issued.token

    def many(self, count: int) -> list[str]:
        """Return count fresh tokens, each of its own subject."""
        return [self.one(f"bench-user-{index}") for index in range(count)]

    def write(self, path: Path, count: int) -> Path:
        """Write count fresh tokens to path, one a line, and return path."""
        path.write_text("\n".join(self.many(count)) + "\n")
        return path
