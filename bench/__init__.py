"""Benchmarks of the service: ``python -m bench`` (``make bench``).

Every scenario starts what it needs (its own redis-server, real service
processes, wrk), measures its variants interleaved over several rounds, and
stops everything again. ``python -m bench --smoke`` runs each at a tiny size.
"""
