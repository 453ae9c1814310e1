"""Issue JWT access tokens and revoke them across a fleet of instances."""

__version__ = "0.1.0"
