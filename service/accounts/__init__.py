"""User accounts: password hashing and sign-in."""
