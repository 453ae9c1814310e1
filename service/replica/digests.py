"""Hold the replica's revoked set as compact 64-bit digests of token ids.

A revoked jti is kept as the 64-bit BLAKE2b digest of its UTF-8 text. The
Redis index stores the same digest as 8 raw little-endian bytes, so a snapshot
of members joins into one buffer that `digests_from_bytes` reads in one step.

`RevokedDigestSet` keeps about 12 bytes per entry after a load: a sorted
``array("Q")`` of digests, a parallel array of expiries in whole Unix seconds,
and a small dict of recent additions that is merged in once it grows. Lookups
bisect the arrays (fast on ``array``); sorting a snapshot and dropping
expired entries run in numpy over the same buffers.
"""

from __future__ import annotations

import functools
import hashlib
import math
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from functools import partial
from typing import Any

import numpy
from numpy.typing import NDArray

__all__ = [
    "RevokedDigestSet",
    "digests_from_bytes",
    "entries_from_buckets",
    "jti_digest",
    "jti_digest_bytes",
]

DIGEST_SIZE = 8
"""Size of one digest in bytes."""

_DIGEST_TYPECODE = "Q"
_EXPIRY_TYPECODE = "I" if array("I").itemsize >= 4 else "L"
_MAX_DIGEST = 2 ** (8 * DIGEST_SIZE) - 1
_MAX_EXPIRY = 2 ** (8 * array(_EXPIRY_TYPECODE).itemsize) - 1
_NOTHING_EXPIRES = _MAX_EXPIRY + 1
_MIN_MERGE = 4096
_MERGE_FRACTION = 8


def jti_digest_bytes(jti: str) -> bytes:
    """Return the 8-byte little-endian digest of a jti, as stored in Redis."""
    return hashlib.blake2b(jti.encode(), digest_size=DIGEST_SIZE).digest()


# Every protected request digests its jti; busy clients repeat theirs.
@functools.lru_cache(maxsize=1 << 16)
def jti_digest(jti: str) -> int:
    """Return the 64-bit digest of a jti as an unsigned integer."""
    return int.from_bytes(jti_digest_bytes(jti), "little")


def digests_from_bytes(blob: bytes) -> array[int]:
    """Read concatenated 8-byte little-endian digests into an ``array("Q")``.

    Raise ValueError if the length of blob is not a multiple of 8 bytes.
    """
    digests = array(_DIGEST_TYPECODE)
    digests.frombytes(blob)

    if sys.byteorder == "big":
        digests.byteswap()
    return digests


def entries_from_buckets(
    buckets: Iterable[tuple[int, bytes]],
) -> tuple[array[int], array[int]]:
    """Flatten (expiry, concatenated digests) buckets into parallel arrays.

    Each bucket gives an expiry in whole Unix seconds and the 8-byte
    little-endian digests that share it; return the digests and, for each,
    its bucket's expiry.
    """
    digests = array(_DIGEST_TYPECODE)
    expiries = array(_EXPIRY_TYPECODE)

    for expires_at, blob in buckets:
        members = digests_from_bytes(blob)
        digests.extend(members)
        expiries.extend(array(_EXPIRY_TYPECODE, [expires_at]) * len(members))
    return digests, expiries


class RevokedDigestSet:
    """Keep a set of 64-bit digests, each with an expiry in whole Unix seconds.

    Membership costs one dict lookup and one binary search. Additions land in
    a dict that is merged into the sorted arrays once it holds more than an
    eighth of them, so the merge cost is amortised over the additions.
    """

    __slots__ = ("_digests", "_expiries", "_min_expiry", "_min_merge", "_recent")

    def __init__(self, *, min_merge: int = _MIN_MERGE) -> None:
        """Start empty; merge additions once more than min_merge are pending."""
        self._min_merge = min_merge
        self._digests = array(_DIGEST_TYPECODE)
        self._expiries = array(_EXPIRY_TYPECODE)
        self._recent: dict[int, int] = {}
        # A lower bound on every held expiry: extending an entry in place
        # leaves it low, which only costs one needless scan.
        self._min_expiry = _NOTHING_EXPIRES

    def __contains__(self, digest: int) -> bool:
        """Return whether digest is held, ignoring its expiry."""
        if digest in self._recent:
            return True

        digests = self._digests
        index = bisect_left(digests, digest)
        return index < len(digests) and digests[index] == digest

    def __len__(self) -> int:
        """Return the number of distinct digests held."""
        return len(self._digests) + len(self._recent)

    def add(self, digest: int, expires_at: int) -> None:
        """Hold digest until expires_at (whole Unix seconds), keeping the later.

        Raise ValueError if digest is not an unsigned 64-bit integer or
        expires_at does not fit the expiry array.
        """
        _check_entry(digest, expires_at)

        if not self._extend_sorted(digest, expires_at):
            previous = self._recent.get(digest, expires_at)
            self._recent[digest] = max(previous, expires_at)
        self._min_expiry = min(self._min_expiry, expires_at)

        if len(self._recent) > self._merge_threshold():
            self._merge_recent()

    def load(self, digests: array[int], expiries: array[int]) -> None:
        """Replace the contents with a snapshot of digests and their expiries.

        The snapshot may be in any order and may repeat a digest; a repeated
        digest keeps its latest expiry (whole Unix seconds). Raise ValueError
        if the arrays differ in length and OverflowError if a value does not
        fit its array.
        """
        if len(digests) != len(expiries):
            raise ValueError("digests and expiries differ in length")

        self._digests, self._expiries = _sorted_by_digest(digests, expiries)
        self._recent = {}
        self._min_expiry = self._lowest_expiry()

    def load_bucketed(self, buckets: Iterable[tuple[int, bytes]]) -> None:
        """Replace the contents from (expiry, concatenated digests) buckets.

        Each bucket gives an expiry upper bound in whole Unix seconds and the
        8-byte little-endian digests that expire by then.
        """
        self.load(*entries_from_buckets(buckets))

    def discard_expired(self, now: float) -> int:
        """Drop the entries that expired before now (Unix seconds).

        Return how many were dropped. Return 0 in constant time when no held
        expiry is earlier than now; otherwise scan every entry once.
        """
        if self._min_expiry >= now:
            return 0

        # Expiries are whole seconds, so "expiry < now" is "expiry < cutoff".
        cutoff = math.ceil(now)
        held = len(self)

        self._drop_sorted_before(cutoff)
        self._recent = {d: e for d, e in self._recent.items() if e >= cutoff}
        self._min_expiry = self._lowest_expiry()
        return held - len(self)

    def clear(self) -> None:
        """Drop every entry."""
        self._digests = array(_DIGEST_TYPECODE)
        self._expiries = array(_EXPIRY_TYPECODE)
        self._recent = {}
        self._min_expiry = _NOTHING_EXPIRES

    def nbytes(self) -> int:
        """Return the approximate memory held by the entries, in bytes.

        Count the allocated array buffers, the recent-additions dict and its
        key and value objects; a value object shared by keys counts for each.
        """
        arrays = sys.getsizeof(self._digests) + sys.getsizeof(self._expiries)
        recent = sys.getsizeof(self._recent)
        keys = sum(map(sys.getsizeof, self._recent))
        values = sum(map(sys.getsizeof, self._recent.values()))
        return arrays + recent + keys + values

    def _extend_sorted(self, digest: int, expires_at: int) -> bool:
        """Raise the expiry of digest if it is in the sorted arrays.

        Return whether digest was found there.
        """
        index = bisect_left(self._digests, digest)
        if index == len(self._digests) or self._digests[index] != digest:
            return False

        if expires_at > self._expiries[index]:
            self._expiries[index] = expires_at
        return True

    def _merge_threshold(self) -> int:
        """Return how many recent additions to hold before merging them."""
        return max(self._min_merge, len(self._digests) // _MERGE_FRACTION)

    def _merge_recent(self) -> None:
        """Move the recent additions into the sorted arrays."""
        digests = sorted(self._recent)
        expiries = list(map(self._recent.__getitem__, digests))
        positions = list(map(partial(bisect_left, self._digests), digests))

        self._digests = _spliced(self._digests, positions, digests)
        self._expiries = _spliced(self._expiries, positions, expiries)
        self._recent = {}

    def _drop_sorted_before(self, cutoff: int) -> None:
        """Drop the sorted entries whose expiry is earlier than cutoff."""
        keys = numpy.frombuffer(self._digests, dtype=_DIGEST_TYPECODE)
        ends = numpy.frombuffer(self._expiries, dtype=_EXPIRY_TYPECODE)
        kept = ends >= cutoff

        self._digests = _as_array(_DIGEST_TYPECODE, keys[kept])
        self._expiries = _as_array(_EXPIRY_TYPECODE, ends[kept])

    def _lowest_expiry(self) -> int:
        """Return the earliest held expiry, or a sentinel later than any."""
        lowest = min(self._expiries, default=_NOTHING_EXPIRES)
        return min(self._recent.values(), default=lowest)


def _check_entry(digest: int, expires_at: int) -> None:
    """Raise ValueError if digest or expires_at cannot be stored."""
    if not 0 <= digest <= _MAX_DIGEST:
        raise ValueError("digest is not an unsigned 64-bit integer")
    if not 0 <= expires_at <= _MAX_EXPIRY:
        raise ValueError("expires_at is out of range for the expiry array")


def _sorted_by_digest(
    digests: array[int], expiries: array[int]
) -> tuple[array[int], array[int]]:
    """Return both arrays sorted by digest, each repeat keeping its latest expiry."""
    keys = numpy.frombuffer(digests, dtype=_DIGEST_TYPECODE)
    ends = numpy.frombuffer(expiries, dtype=_EXPIRY_TYPECODE)

    order = numpy.argsort(keys)
    keys = keys[order]
    ends = ends[order]

    # Rare: a snapshot repeats a digest. Keep one entry per run of repeats,
    # with the run's latest expiry.
    is_first = numpy.ones(len(keys), dtype=bool)
    is_first[1:] = keys[1:] != keys[:-1]
    starts = numpy.flatnonzero(is_first)
    if len(starts) < len(keys):
        ends = numpy.maximum.reduceat(ends, starts)
        keys = keys[starts]
    return _as_array(_DIGEST_TYPECODE, keys), _as_array(_EXPIRY_TYPECODE, ends)


def _as_array(typecode: str, values: NDArray[Any]) -> array[int]:
    """Copy a numpy vector into an ``array`` of the same item type."""
    copied = array(typecode)
    copied.frombytes(values.tobytes())
    return copied


def _spliced(old: array[int], positions: list[int], values: list[int]) -> array[int]:
    """Return old with values[i] inserted before old[positions[i]].

    positions must not decrease.
    """
    merged = array(old.typecode)
    size = old.itemsize
    start = 0

    # frombytes takes only byte-formatted buffers, so slice a byte view.
    with memoryview(old).cast("B") as view:
        for position, value in zip(positions, values, strict=True):
            merged.frombytes(view[start * size : position * size])
            merged.append(value)
            start = position
        merged.frombytes(view[start * size :])

    return merged
