"""The replica's data and states: apply, idempotence, expiry, the lease."""

from __future__ import annotations

from array import array

from service.replica.digests import jti_digest
from service.replica.replica import RevocationReplica
from service.replica.state import Lease, ReplicaState, StaleCause
from service.revocation.counters import RevocationCounters
from service.storage.events import RevocationEvent, RevocationKind
from service.storage.revocations import RevocationSnapshot


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def jti_event(seq: int, jti: str, expires_at: int = 2_000_000_000) -> RevocationEvent:
    return RevocationEvent(
        seq, RevocationKind.JTI, jti, expires_at, digest=jti_digest(jti)
    )


def subject_event(seq: int, subject: str, not_before: float) -> RevocationEvent:
    return RevocationEvent(
        seq,
        RevocationKind.SUBJECT,
        subject,
        2_000_000_000,
        not_before=not_before,
    )


def live_replica(monotonic: FakeClock | None = None) -> RevocationReplica:
    clock = monotonic or FakeClock()
    replica = RevocationReplica(RevocationCounters(), monotonic=clock)
    replica.go_live(clock.now + 2.0)
    return replica


def test_a_new_replica_is_syncing_and_not_fresh() -> None:
    replica = RevocationReplica(RevocationCounters())
    assert replica.state is ReplicaState.SYNCING
    assert not replica.is_fresh()


def test_applied_jti_may_be_rejected_and_others_are_clear() -> None:
    replica = live_replica()
    replica.apply(jti_event(1, "revoked"))
    assert replica.may_reject("revoked", "s", 1.0)
    assert not replica.may_reject("other", "s", 1.0)
    assert replica.applied_seq == 1


def test_applying_the_same_event_twice_changes_nothing() -> None:
    replica = live_replica()
    replica.apply(jti_event(1, "revoked"))
    replica.apply(jti_event(1, "revoked"))
    assert len(replica) == 1
    assert replica.applied_seq == 1


def test_subject_not_before_rejects_tokens_issued_up_to_it_only() -> None:
    replica = live_replica()
    replica.apply(subject_event(1, "alice", 500.25))
    assert replica.may_reject("any", "alice", 500.0)
    assert replica.may_reject("any", "alice", 500.25)
    assert not replica.may_reject("any", "alice", 500.26)
    assert not replica.may_reject("any", "bob", 1.0)


def test_subject_not_before_only_moves_forward() -> None:
    replica = live_replica()
    replica.set_not_before("alice", 600.0, 2_000_000_000)
    replica.set_not_before("alice", 500.0, 2_000_000_000)
    assert replica.may_reject("any", "alice", 550.0)


def test_entries_leave_when_their_tokens_would_have_expired() -> None:
    wall = FakeClock(1000.0)
    replica = RevocationReplica(RevocationCounters(), clock=wall)
    replica.add_jti("short", 1010)
    replica.add_jti("long", 2000)
    replica.set_not_before("alice", 900.0, 1010)

    wall.now = 1011.0
    assert replica.discard_expired() == 2
    assert not replica.may_reject("short", "x", 1.0)
    assert replica.may_reject("long", "x", 1.0)
    assert not replica.may_reject("any", "alice", 800.0)


def test_load_replaces_the_contents_with_the_snapshot() -> None:
    replica = live_replica()
    replica.add_jti("stale-entry", 2_000_000_000)
    snapshot = RevocationSnapshot(
        seq=7,
        digests=array("Q", [jti_digest("from-snapshot")]),
        expiries=array("I", [2_000_000_000]),
        not_before={"bob": (100.0, 2_000_000_000)},
    )
    replica.load(snapshot)
    assert replica.applied_seq == 7
    assert replica.may_reject("from-snapshot", "x", 1.0)
    assert not replica.may_reject("stale-entry", "x", 1.0)
    assert replica.may_reject("any", "bob", 50.0)


def test_the_lease_running_out_makes_the_replica_not_fresh() -> None:
    monotonic = FakeClock(10.0)
    replica = live_replica(monotonic)
    assert replica.is_fresh()

    monotonic.now = 11.99
    assert replica.is_fresh()
    monotonic.now = 12.0
    assert not replica.is_fresh()
    assert replica.public_state() is ReplicaState.STALE


def test_renewing_extends_the_lease_and_never_shortens_it() -> None:
    monotonic = FakeClock(10.0)
    lease = Lease(monotonic)
    lease.renew(15.0)
    lease.renew(12.0)
    assert lease.deadline == 15.0
    monotonic.now = 14.0
    assert lease.remaining() == 1.0


def test_mark_stale_ends_the_lease_at_once_and_counts_the_cause() -> None:
    replica = live_replica()
    replica.mark_stale(StaleCause.SEQUENCE_GAP)
    assert not replica.is_fresh()
    assert replica.state is ReplicaState.STALE
    assert replica.counters.resyncs["sequence_gap"] == 1
