"""The store: the only code that speaks Redis."""
