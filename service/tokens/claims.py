"""The claims of a verified access token, in the domain's own terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ADMIN_ROLE", "AccessClaims", "is_valid_jti"]

ADMIN_ROLE = "admin"

# Ours are 22 URL-safe characters; accept any short URL-safe id.
_JTI_PATTERN = re.compile(r"[A-Za-z0-9_\-.:]{1,128}")


def is_valid_jti(value: object) -> bool:
    """Tell whether a value is acceptable as a token id."""
    return isinstance(value, str) and _JTI_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """A verified access token. Times are Unix seconds."""

    subject: str
    jti: str
    issued_at: float
    expires_at: float
    email: str
    name: str
    roles: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        """Tell whether the token carries the admin role."""
        return ADMIN_ROLE in self.roles
