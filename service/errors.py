"""The exception tree: every failure a client can see, with its status and code.

Each class carries the HTTP status and the stable public error code that the
error middleware puts into the JSON body, so handlers raise and never build
error responses themselves.
"""

from __future__ import annotations

__all__ = [
    "BodyTooLargeError",
    "ConfigurationError",
    "ForbiddenError",
    "InvalidCredentialsError",
    "InvalidRequestError",
    "InvalidTokenError",
    "MethodNotAllowedError",
    "MissingTokenError",
    "NotFoundError",
    "RevocationUnavailableError",
    "ServiceError",
    "StoreUnavailableError",
    "TokenExpiredError",
    "TokenRevokedError",
    "TooManyAttemptsError",
    "UnsupportedMediaTypeError",
]


class ConfigurationError(Exception):
    """Raised when a setting is missing or invalid at start-up."""


class ServiceError(Exception):
    """Base of every error answered to a client."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> dict[str, str]:
        """Return the extra response headers this error requires."""
        return {}


class InvalidRequestError(ServiceError):
    """Raised when a request body or parameter is malformed."""

    status = 400
    code = "invalid_request"


class BodyTooLargeError(ServiceError):
    """Raised when a request body exceeds the configured limit."""

    status = 413
    code = "body_too_large"


class UnsupportedMediaTypeError(ServiceError):
    """Raised when a request body is not JSON."""

    status = 415
    code = "unsupported_media_type"


class NotFoundError(ServiceError):
    """Raised when the requested resource does not exist."""

    status = 404
    code = "not_found"


class MethodNotAllowedError(ServiceError):
    """Raised when a route exists but not for this HTTP method."""

    status = 405
    code = "method_not_allowed"


class InvalidCredentialsError(ServiceError):
    """Raised when an email and password do not match a user."""

    status = 401
    code = "invalid_credentials"


class TooManyAttemptsError(ServiceError):
    """Raised when sign-in attempts exceed their limit for the window."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InvalidTokenError(ServiceError):
    """Raised when a bearer token fails verification."""

    status = 401
    code = "invalid_token"

    def headers(self) -> dict[str, str]:
        # RFC 6750 section 3: the description must not contain a double quote.
        description = self.message.replace('"', "'")
        return {
            "WWW-Authenticate": (
                f'Bearer error="invalid_token", error_description="{description}"'
            )
        }


class MissingTokenError(InvalidTokenError):
    """Raised when a protected route is called without a bearer token."""

    code = "missing_token"

    def headers(self) -> dict[str, str]:
        # RFC 6750 section 3.1: no error code when no credentials were sent.
        return {"WWW-Authenticate": 'Bearer realm="api"'}


class TokenExpiredError(InvalidTokenError):
    """Raised when a bearer token is past its expiry."""

    code = "token_expired"


class TokenRevokedError(InvalidTokenError):
    """Raised when a bearer token, or every token of its subject, is revoked."""

    code = "token_revoked"


class ForbiddenError(ServiceError):
    """Raised when a valid token lacks the role a route requires."""

    status = 403
    code = "insufficient_role"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}


class StoreUnavailableError(ServiceError):
    """Raised when Redis cannot be reached for an operation that needs it."""

    status = 503
    code = "store_unavailable"


class RevocationUnavailableError(ServiceError):
    """Raised when revocation status cannot be established (fail closed)."""

    status = 503
    code = "revocation_unavailable"
