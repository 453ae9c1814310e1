"""HTTP handlers, one module per route, and the request plumbing they share."""
