"""Revocation as the request path sees it: the check, and the act of revoking."""
