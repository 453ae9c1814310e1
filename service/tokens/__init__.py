"""Access tokens: signing keys, issuing, verification and the verified cache."""
