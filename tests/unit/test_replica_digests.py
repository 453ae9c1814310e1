"""Revoked jti digests: the digest itself and the compact set that holds them."""

# seeded generators make reproducible test data, not secrets

from __future__ import annotations

import random
from array import array

import pytest

from service.replica.digests import (
    RevokedDigestSet,
    digests_from_bytes,
    jti_digest,
    jti_digest_bytes,
)

NOW = 1_800_000_000


def random_digests(count: int, seed: int) -> array[int]:
    """Return count random 64-bit digests, the same for the same seed."""
    return digests_from_bytes(random.Random(seed).randbytes(8 * count))


def expiries_of(*values: int) -> array[int]:
    return array("I", values)


def test_jti_digest_is_a_fixed_blake2b_value() -> None:
    assert jti_digest("3f2c9a1e-revoked-token") == 17038602360216656758
    assert jti_digest_bytes("3f2c9a1e-revoked-token").hex() == "769bd87d924675ec"


def test_jti_digest_reads_the_stored_bytes_as_little_endian() -> None:
    stored = jti_digest_bytes("a-jti")

    assert len(stored) == 8
    assert jti_digest("a-jti") == int.from_bytes(stored, "little")


def test_digests_from_bytes_reads_back_joined_members() -> None:
    jtis = [f"jti-{index}" for index in range(100)]

    blob = b"".join(map(jti_digest_bytes, jtis))

    assert digests_from_bytes(blob).tolist() == list(map(jti_digest, jtis))


def test_digests_from_bytes_reads_an_empty_snapshot() -> None:
    assert digests_from_bytes(b"").tolist() == []


def test_digests_from_bytes_rejects_a_partial_member() -> None:
    with pytest.raises(ValueError, match="multiple"):
        digests_from_bytes(b"\x00" * 12)


def test_added_digest_is_a_member_and_others_are_not() -> None:
    revoked = RevokedDigestSet()

    revoked.add(jti_digest("revoked"), NOW)

    assert jti_digest("revoked") in revoked
    assert jti_digest("still-valid") not in revoked
    assert len(revoked) == 1


def test_adding_a_digest_twice_keeps_one_entry_with_the_later_expiry() -> None:
    revoked = RevokedDigestSet()

    revoked.add(7, NOW + 20)
    revoked.add(7, NOW + 10)

    assert len(revoked) == 1
    assert revoked.discard_expired(NOW + 15) == 0
    assert 7 in revoked
    assert revoked.discard_expired(NOW + 21) == 1


def test_adding_a_loaded_digest_extends_its_expiry_in_place() -> None:
    revoked = RevokedDigestSet()
    revoked.load(array("Q", [5, 9]), expiries_of(NOW, NOW))

    revoked.add(9, NOW + 100)

    assert len(revoked) == 2
    assert revoked.discard_expired(NOW + 50) == 1
    assert 5 not in revoked
    assert 9 in revoked


def test_add_rejects_values_the_arrays_cannot_hold() -> None:
    revoked = RevokedDigestSet()

    with pytest.raises(ValueError, match="digest"):
        revoked.add(2**64, NOW)
    with pytest.raises(ValueError, match="expires_at"):
        revoked.add(1, -1)
    assert len(revoked) == 0


def test_load_finds_every_loaded_digest_and_no_other() -> None:
    loaded = random_digests(20_000, seed=1)
    absent = random_digests(2_000, seed=2)
    revoked = RevokedDigestSet()

    revoked.load(loaded, array("I", [NOW]) * len(loaded))

    assert len(revoked) == len(loaded)
    assert all(digest in revoked for digest in loaded)
    assert not any(digest in revoked for digest in absent)


def test_load_keeps_the_latest_expiry_of_a_repeated_digest() -> None:
    revoked = RevokedDigestSet()

    revoked.load(
        array("Q", [3, 1, 3, 2, 3]),
        expiries_of(NOW + 5, NOW, NOW + 30, NOW, NOW + 10),
    )

    assert len(revoked) == 3
    assert revoked.discard_expired(NOW + 20) == 2
    assert 3 in revoked
    assert revoked.discard_expired(NOW + 31) == 1


def test_load_collapses_repeats_spread_over_a_large_snapshot() -> None:
    distinct = random_digests(10_000, seed=12)
    repeated = distinct[:3_000]
    snapshot = list(zip(distinct, [NOW] * 10_000, strict=True))
    snapshot += [(digest, NOW + 60) for digest in repeated]
    random.Random(13).shuffle(snapshot)
    revoked = RevokedDigestSet()

    revoked.load(
        array("Q", [digest for digest, _ in snapshot]),
        array("I", [expiry for _, expiry in snapshot]),
    )

    assert len(revoked) == 10_000
    assert revoked.discard_expired(NOW + 30) == 7_000
    assert all(digest in revoked for digest in repeated)


def test_load_orders_digests_that_round_to_the_same_float() -> None:
    close = [2**63 + 3, 2**63 + 1, 2**63, 2**63 + 2]
    revoked = RevokedDigestSet()

    revoked.load(array("Q", close), expiries_of(NOW + 3, NOW + 1, NOW, NOW + 2))

    assert all(digest in revoked for digest in close)
    assert 2**63 + 4 not in revoked
    assert revoked.discard_expired(NOW + 2) == 2
    assert 2**63 + 2 in revoked
    assert 2**63 + 1 not in revoked


def test_load_replaces_the_previous_contents() -> None:
    revoked = RevokedDigestSet()
    revoked.add(100, NOW)
    revoked.load(array("Q", [200]), expiries_of(NOW))

    revoked.load(array("Q", [300, 400]), expiries_of(NOW, NOW))

    assert 100 not in revoked
    assert 200 not in revoked
    assert 300 in revoked
    assert len(revoked) == 2


def test_load_rejects_arrays_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="length"):
        RevokedDigestSet().load(array("Q", [1, 2]), expiries_of(NOW))


def test_load_of_an_empty_snapshot_empties_the_set() -> None:
    revoked = RevokedDigestSet()
    revoked.add(1, NOW)

    revoked.load(array("Q"), array("I"))

    assert len(revoked) == 0
    assert 1 not in revoked
    assert revoked.discard_expired(NOW + 1) == 0


def test_load_bucketed_gives_each_digest_its_bucket_expiry() -> None:
    early = [jti_digest(f"early-{index}") for index in range(10)]
    late = [jti_digest(f"late-{index}") for index in range(5)]
    revoked = RevokedDigestSet()

    revoked.load_bucketed(
        [
            (NOW + 60, b"".join(value.to_bytes(8, "little") for value in early)),
            (NOW + 120, b"".join(value.to_bytes(8, "little") for value in late)),
        ]
    )

    assert len(revoked) == 15
    assert revoked.discard_expired(NOW + 61) == 10
    assert all(digest in revoked for digest in late)
    assert not any(digest in revoked for digest in early)


def test_discard_expired_drops_exactly_entries_older_than_now() -> None:
    revoked = RevokedDigestSet()
    revoked.load(array("Q", [10, 20, 30]), expiries_of(NOW - 1, NOW, NOW + 1))
    revoked.add(40, NOW - 5)
    revoked.add(50, NOW + 5)

    dropped = revoked.discard_expired(NOW)

    assert dropped == 2
    assert [digest in revoked for digest in (10, 20, 30, 40, 50)] == [
        False,
        True,
        True,
        False,
        True,
    ]
    assert len(revoked) == 3


def test_discard_expired_drops_an_entry_expiring_within_the_current_second() -> None:
    revoked = RevokedDigestSet()
    revoked.add(1, NOW)
    revoked.add(2, NOW + 1)

    assert revoked.discard_expired(NOW + 0.5) == 1
    assert 1 not in revoked
    assert 2 in revoked


def test_discard_expired_returns_zero_when_nothing_has_expired() -> None:
    revoked = RevokedDigestSet()
    revoked.load(random_digests(1_000, seed=3), array("I", [NOW]) * 1_000)

    assert revoked.discard_expired(NOW) == 0
    assert revoked.discard_expired(NOW - 100.5) == 0
    assert len(revoked) == 1_000


def test_discard_expired_keeps_survivors_findable_across_merges() -> None:
    digests = random_digests(5_000, seed=4)
    revoked = RevokedDigestSet(min_merge=64)

    for index, digest in enumerate(digests):
        revoked.add(digest, NOW + index % 10)
    dropped = revoked.discard_expired(NOW + 5)

    survivors = [d for i, d in enumerate(digests) if i % 10 >= 5]
    expired = [d for i, d in enumerate(digests) if i % 10 < 5]
    assert dropped == len(expired)
    assert all(digest in revoked for digest in survivors)
    assert not any(digest in revoked for digest in expired)


def test_additions_past_several_merges_stay_findable() -> None:
    loaded = random_digests(10_000, seed=5)
    added = random_digests(30_000, seed=6)
    absent = random_digests(3_000, seed=7)
    revoked = RevokedDigestSet()
    revoked.load(loaded, array("I", [NOW]) * len(loaded))

    for digest in added:
        revoked.add(digest, NOW + 1)

    assert len(revoked) == len(loaded) + len(added)
    assert all(digest in revoked for digest in loaded)
    assert all(digest in revoked for digest in added)
    assert not any(digest in revoked for digest in absent)


def test_merges_keep_the_memory_per_entry_close_to_the_arrays() -> None:
    revoked = RevokedDigestSet()

    for digest in random_digests(100_000, seed=8):
        revoked.add(digest, NOW)

    # 12 bytes in the arrays plus at most an eighth of the entries in the dict.
    assert revoked.nbytes() / len(revoked) < 40


def test_matches_a_dict_of_latest_expiries_under_random_operations() -> None:
    rng = random.Random(9)
    revoked = RevokedDigestSet(min_merge=16)
    model: dict[int, int] = {}

    for step in range(1, 4_001):
        digest, expires_at = rng.randrange(600), NOW + rng.randrange(200)
        revoked.add(digest, expires_at)
        model[digest] = max(model.get(digest, expires_at), expires_at)

        if step % 97 == 0:
            now = NOW + step / 40
            assert revoked.discard_expired(now) == discard_from_model(model, now)

    assert len(revoked) == len(model)
    assert [d in revoked for d in range(600)] == [d in model for d in range(600)]


def discard_from_model(model: dict[int, int], now: float) -> int:
    """Drop the model entries expiring before now; return how many."""
    expired = [digest for digest, expiry in model.items() if expiry < now]
    for digest in expired:
        del model[digest]
    return len(expired)


def test_clear_empties_the_set() -> None:
    revoked = RevokedDigestSet()
    revoked.load(array("Q", [1, 2]), expiries_of(NOW, NOW))
    revoked.add(3, NOW)

    revoked.clear()

    assert len(revoked) == 0
    assert not any(digest in revoked for digest in (1, 2, 3))


def test_a_million_loaded_entries_take_under_60_bytes_each() -> None:
    count = 1_000_000
    rng = random.Random(10)
    expiries = array("I", [NOW + rng.randrange(86_400) for _ in range(count)])
    revoked = RevokedDigestSet()

    revoked.load(random_digests(count, seed=11), expiries)

    assert len(revoked) == count
    assert revoked.nbytes() / len(revoked) < 60
