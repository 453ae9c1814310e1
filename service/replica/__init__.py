"""The local replica of the live revocation set, and what keeps it fresh.

Usable on its own by any aiohttp application that only verifies tokens:
build a :class:`~service.replica.replica.RevocationReplica`, run a
:class:`~service.replica.sync.ReplicaSync` beside it, and ask
``replica.is_fresh()`` and ``replica.may_reject(...)`` per request.
"""
