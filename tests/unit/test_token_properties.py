"""Hostile tokens: whatever arrives, verification fails with InvalidTokenError.

Most properties run on :class:`TokenVerifier` directly, where thousands of
examples cost little; a handful go through HTTP to pin the 401 answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import InvalidTokenError
from service.tokens.claims import AccessClaims, is_valid_jti
from service.tokens.issuer import TokenIssuer
from service.tokens.keys import KeySet, SigningKey
from service.tokens.verifier import MAX_TOKEN_LENGTH, TokenVerifier
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET, bearer, login

Client = TestClient[Any, Any]

SECRET = TEST_SECRET.encode()
KEY = SigningKey.hmac(SECRET)
ISSUER = "jwt-revocation-service"
AUDIENCE = "api"
REJECTION_CODES = {"invalid_token", "token_expired"}
ACCEPTED_TYPES = ("at+jwt", "AT+JWT", "application/at+jwt")
ABSENT = object()

# Deterministic and quick: CI sees the same examples every run.
FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None)
HTTP = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def make_verifier() -> TokenVerifier:
    keys = KeySet(KEY)
    return TokenVerifier(
        keys, issuer=ISSUER, audience=AUDIENCE, leeway=5, cache_size=64
    )


def issue_real_token() -> str:
    issuer = TokenIssuer(KeySet(KEY), issuer=ISSUER, audience=AUDIENCE, lifetime=900)
    issued = issuer.issue(
        subject="alice-sub", email="alice@example.com", name="Alice", roles=()
    )
    return issued.token


# One token for the whole module: examples that index into it need its
# length to stay the same from one example to the next.
REAL_TOKEN = issue_real_token()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def encode_json(value: object) -> str:
    return b64url(json.dumps(value).encode())


MACS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def sign(signing_input: str, signer: str, secret: bytes = SECRET) -> str:
    """Return the signature segment: ``signer`` is a MAC of MACS, or none."""
    if signer == "none":
        return ""
    mac = hmac.new(secret, signing_input.encode(), MACS[signer])
    return b64url(mac.digest())


def compact(header: object, payload: object, signer: str = "HS256") -> str:
    """Build a JWS by hand, so that any header or payload can be sent."""
    signing_input = f"{encode_json(header)}.{encode_json(payload)}"
    return f"{signing_input}.{sign(signing_input, signer)}"


def genuine_claims() -> dict[str, Any]:
    now = time.time()
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice-sub",
        "iat": now,
        "exp": now + 600,
        "jti": "genuine-jti-1",
    }


def genuine_header() -> dict[str, Any]:
    return {"alg": "HS256", "typ": "at+jwt", "kid": KEY.kid}


def assert_rejected(token: str) -> None:
    """Both ways of reading a token refuse it with a 401 code, nothing else."""
    verifier = make_verifier()
    for read in (verifier.verify, verifier.read_revocable):
        with pytest.raises(InvalidTokenError) as caught:
            read(token)
        assert caught.value.code in REJECTION_CODES
        assert caught.value.status == 401


def assert_sane(claims: AccessClaims) -> None:
    assert isinstance(claims.subject, str)
    assert 0 < len(claims.subject) <= 256
    assert is_valid_jti(claims.jti)
    assert math.isfinite(claims.issued_at)
    assert math.isfinite(claims.expires_at)
    assert all(isinstance(role, str) for role in claims.roles)
    assert isinstance(claims.email, str)
    assert isinstance(claims.name, str)


def assert_rejected_or_sane(token: str) -> None:
    """A genuinely signed token: refused as above, or read into sane claims."""
    verifier = make_verifier()
    for read in (verifier.verify, verifier.read_revocable):
        outcome = claims_or_refusal(read, token)
        if isinstance(outcome, InvalidTokenError):
            assert outcome.code in REJECTION_CODES
        else:
            assert_sane(outcome)


def claims_or_refusal(
    read: Callable[[str], AccessClaims], token: str
) -> AccessClaims | InvalidTokenError:
    try:
        return read(token)
    except InvalidTokenError as exc:
        return exc


def assert_rejected_unless_same(damaged: str) -> None:
    """A damaged real token is refused, unless it is still the same JWS."""
    if not same_jws(damaged, REAL_TOKEN):
        assert_rejected(damaged)
        return

    outcome = claims_or_refusal(make_verifier().verify, damaged)
    if isinstance(outcome, InvalidTokenError):
        assert outcome.code in REJECTION_CODES


def same_jws(token: str, original: str) -> bool:
    """Tell whether a token is the original up to how its signature is spelled.

    Base64 leaves spare bits in a segment's last character, so one signature
    has several spellings; the signed part must match byte for byte.
    """
    parts, originals = token.split("."), original.split(".")
    if len(parts) != 3 or parts[:2] != originals[:2]:
        return False
    try:
        return b64url_decode(parts[2]) == b64url_decode(originals[2])
    except ValueError:
        return False


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
NESTED_JSON = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)
HUGE_NUMBERS = st.sampled_from(
    [
        10**30,
        -(10**30),
        2**63,
        -(2**63) - 1,
        10**400,
        -(10**400),
        1e308,
        -1e308,
        float("nan"),
        float("inf"),
        float("-inf"),
        -0.0,
        0.5,
    ]
)
HOSTILE_VALUES = (
    HUGE_NUMBERS
    | NESTED_JSON
    | st.sampled_from(["", "now", "123", "1e9", "admin", "x" * 300, ["admin"] * 40])
    | st.just(ABSENT)
)

TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"
TOKEN_LIKE = st.text(alphabet=TOKEN_ALPHABET, max_size=400)
HEADER_SAFE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300
)

ALG_NAMES = ["HS256", "none", "None", "NONE", "HS384", "HS512", "RS256", "ES256"]
ALG_ODDITIES = ["PS256", "EdDSA", "hs256", "HS256 ", "", 256, True, None, ["HS256"]]
ALGS = st.sampled_from([*ALG_NAMES, *ALG_ODDITIES, {"alg": "HS256"}]) | st.just(ABSENT)
KID_LOOKALIKES = [KEY.kid, KEY.kid.upper(), KEY.kid + "\x00", "unknown", ""]
KID_ODDITIES = [0, 2**64, None, [KEY.kid], {"kid": KEY.kid}, "k" * 3000]
KID_PATHS = ["../../../../etc/passwd", "/dev/null", "file:///etc/passwd", "' OR 1=1"]
KIDS = st.sampled_from([*KID_LOOKALIKES, *KID_ODDITIES, *KID_PATHS]) | st.just(ABSENT)
TYP_VALUES = [*ACCEPTED_TYPES, "JWT", "jwt", "", None, 1, ["at+jwt"]]
TYPS = st.sampled_from(TYP_VALUES) | st.just(ABSENT)
CRITS = st.sampled_from([ABSENT, ABSENT, ["exp"], [], "b64", ["b64"], [1], None])
EXTRAS = st.sampled_from(
    [
        {},
        {"jku": "https://attacker.example/jwks.json"},
        {"jwk": {"kty": "oct", "k": b64url(b"attacker-key")}},
        {"x5u": "https://attacker.example/cert.pem"},
        {"cty": "JWT"},
    ]
)
SIGNERS = st.sampled_from(["HS256", "HS384", "HS512", "none", "HS256-other"])


def present(**fields: object) -> dict[str, object]:
    return {name: value for name, value in fields.items() if value is not ABSENT}


def is_proper(header: dict[str, object], signer: str) -> bool:
    """Tell whether a header and signature are exactly what the service accepts."""
    return (
        signer == "HS256"
        and header.get("alg") == "HS256"
        and header.get("kid") == KEY.kid
        and header.get("typ") in ACCEPTED_TYPES
        and "crit" not in header
    )


class TestArbitraryInput:
    @FAST
    @given(st.text(max_size=400))
    def test_any_text_is_rejected(self, token: str) -> None:
        assert_rejected(token)

    @FAST
    @given(st.binary(max_size=400))
    def test_any_bytes_are_rejected(self, raw: bytes) -> None:
        assert_rejected(raw.decode("latin-1"))

    @FAST
    @given(st.lists(TOKEN_LIKE, min_size=1, max_size=5))
    def test_dot_separated_base64ish_segments_are_rejected(
        self, segments: list[str]
    ) -> None:
        assert_rejected(".".join(segments))

    @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    @given(st.integers(MAX_TOKEN_LENGTH + 1, 200_000))
    def test_oversized_tokens_are_rejected_before_parsing(self, length: int) -> None:
        assert_rejected((REAL_TOKEN + "A" * length)[:length])


POSITIONS = st.integers(0, len(REAL_TOKEN) - 1)


class TestDamagedRealTokens:
    @FAST
    @given(POSITIONS, st.booleans())
    def test_a_truncated_token_is_rejected(self, cut: int, keep_head: bool) -> None:
        assert_rejected(REAL_TOKEN[:cut] if keep_head else REAL_TOKEN[cut + 1 :])

    @FAST
    @given(POSITIONS, st.sampled_from(TOKEN_ALPHABET))
    def test_a_token_with_one_character_changed_is_rejected(
        self, index: int, character: str
    ) -> None:
        damaged = REAL_TOKEN[:index] + character + REAL_TOKEN[index + 1 :]
        assert_rejected_unless_same(damaged)

    @pytest.mark.parametrize("how", ["pad", "std", "space", "reorder"])
    @pytest.mark.parametrize("index", [0, 1, 2])
    def test_a_re_encoded_segment_is_rejected(self, index: int, how: str) -> None:
        segments = REAL_TOKEN.split(".")
        segments[index] = re_encode(segments[index], how, is_json=index < 2)
        assert_rejected_unless_same(".".join(segments))

    @FAST
    @given(st.integers(0, 2), NESTED_JSON)
    def test_a_segment_replaced_by_other_json_is_rejected(
        self, index: int, value: object
    ) -> None:
        segments = REAL_TOKEN.split(".")
        segments[index] = encode_json(value)
        assert_rejected(".".join(segments))


def re_encode(segment: str, how: str, *, is_json: bool) -> str:
    raw = b64url_decode(segment)
    if how == "pad":
        return segment + "=" * (-len(segment) % 4 or 4)
    if how == "std":
        return base64.b64encode(raw).decode()
    if not is_json:
        return segment + "A"
    value = json.loads(raw)
    if how == "space":
        return b64url(json.dumps(value, indent=1).encode())
    return b64url(json.dumps(dict(reversed(list(value.items())))).encode())


class TestTamperedHeaders:
    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(ALGS, KIDS, TYPS, CRITS, EXTRAS, SIGNERS)
    def test_only_the_pinned_header_and_mac_verify(
        self,
        alg: object,
        kid: object,
        typ: object,
        crit: object,
        extras: dict[str, object],
        signer: str,
    ) -> None:
        header = {**extras, **present(alg=alg, kid=kid, typ=typ, crit=crit)}
        signing_input = f"{encode_json(header)}.{encode_json(genuine_claims())}"
        secret = b"another-secret-" + b"x" * 40 if signer.endswith("other") else SECRET
        token = f"{signing_input}.{sign(signing_input, signer[:5], secret)}"

        if is_proper(header, signer):
            assert make_verifier().verify(token).jti == "genuine-jti-1"
        else:
            assert_rejected(token)

    def test_rs256_with_the_hmac_secret_as_public_key_is_rejected(self) -> None:
        """HS/RS confusion: the secret must never serve as another alg's key."""
        header = {**genuine_header(), "alg": "RS256"}
        assert_rejected(compact(header, genuine_claims()))

    @pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
    def test_unsigned_tokens_are_rejected(self, alg: str) -> None:
        header = {**genuine_header(), "alg": alg}
        assert_rejected(compact(header, genuine_claims(), signer="none"))


CLAIM_NAMES = ["iss", "aud", "sub", "iat", "exp", "jti", "nbf", "roles", "email"]


class TestHostileClaims:
    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(
        st.dictionaries(
            st.sampled_from(CLAIM_NAMES), HOSTILE_VALUES, min_size=1, max_size=3
        )
    )
    def test_genuinely_signed_claims_are_rejected_or_read_sanely(
        self, changes: dict[str, object]
    ) -> None:
        claims = {**genuine_claims(), **changes}
        payload = {name: value for name, value in claims.items() if value is not ABSENT}
        assert_rejected_or_sane(compact(genuine_header(), payload))

    @FAST
    @given(HOSTILE_VALUES.filter(lambda value: value is not ABSENT))
    def test_a_payload_that_is_not_an_object_is_rejected(self, value: object) -> None:
        if isinstance(value, dict):
            value = [value]
        assert_rejected(compact(genuine_header(), value))

    def test_a_forged_signature_over_valid_claims_is_rejected(self) -> None:
        """Guards the tests above: their forgeries differ from this in one thing."""
        token = compact(genuine_header(), genuine_claims())
        assert make_verifier().verify(token).jti == "genuine-jti-1"
        forged = compact(genuine_header(), genuine_claims(), signer="HS384")
        assert_rejected(forged)


async def assert_http_rejected(client: Client, token: str) -> None:
    response = await client.get("/api/profile", headers=bearer(token))
    assert response.status == 401, await response.text()
    body = await response.json()
    assert body["error"] in REJECTION_CODES
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer error="invalid_token"'
    )


class TestThroughHttp:
    @HTTP
    @given(HEADER_SAFE.filter(lambda token: token.strip()))
    async def test_any_printable_token_is_401(self, client: Client, token: str) -> None:
        await assert_http_rejected(client, token)

    @HTTP
    @given(ALGS, KIDS, TYPS, CRITS, SIGNERS)
    async def test_tampered_headers_are_401(
        self,
        client: Client,
        alg: object,
        kid: object,
        typ: object,
        crit: object,
        signer: str,
    ) -> None:
        header = present(alg=alg, kid=kid, typ=typ, crit=crit)
        if is_proper(header, signer):
            header["alg"] = "HS384"
        token = compact(header, genuine_claims(), signer=signer[:5])
        await assert_http_rejected(client, token)

    @HTTP
    @given(HEADER_SAFE)
    async def test_revoking_a_hostile_token_is_400(
        self, client: Client, token: str
    ) -> None:
        admin = await login(client, "admin@example.com", ADMIN_PASSWORD)
        revoked = await client.post(
            "/admin/revocations", json={"token": token}, headers=bearer(admin)
        )
        assert revoked.status == 400, await revoked.text()
        assert (await revoked.json())["error"] == "invalid_request"
