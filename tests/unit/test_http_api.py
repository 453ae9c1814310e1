"""The HTTP interface on the embedded store: the walkthrough and every error."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient

from service.appkeys import SETTINGS
from tests.conftest import (
    ADMIN_PASSWORD,
    ALICE_PASSWORD,
    TEST_SECRET,
    app_of,
    bearer,
    login,
    make_settings,
)

Client = TestClient[Any, Any]


async def alice_token(client: Client) -> str:
    return await login(client, "alice@example.com", ALICE_PASSWORD)


async def admin_token(client: Client) -> str:
    return await login(client, "admin@example.com", ADMIN_PASSWORD)


def forge(claims: dict[str, Any], *, secret: str = TEST_SECRET, **header: Any) -> str:
    headers = {"typ": "at+jwt", **header}
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def valid_claims(client: Client, **changes: Any) -> dict[str, Any]:
    settings = app_of(client)[SETTINGS]
    now = time.time()
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": "someone",
        "iat": now,
        "exp": now + 60,
        "jti": "forged-jti-1",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def kid_of(client: Client, token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


class TestWalkthrough:
    async def test_login_profile_logout_profile_gives_401(self, client: Client) -> None:
        """The four steps a user types: sign in, read, sign out, read again."""
        token = await alice_token(client)

        profile = await client.get("/api/profile", headers=bearer(token))
        assert profile.status == 200
        body = await profile.json()
        assert body["email"] == "alice@example.com"
        assert body["name"] == "Alice"
        assert body["sub"]

        logout = await client.post("/auth/logout", headers=bearer(token))
        assert logout.status == 200

        again = await client.get("/api/profile", headers=bearer(token))
        await assert_error(again, 401, "token_revoked")
        assert again.headers["WWW-Authenticate"].startswith(
            'Bearer error="invalid_token"'
        )

    async def test_second_logout_with_the_same_token_is_401(
        self, client: Client
    ) -> None:
        token = await alice_token(client)
        assert (await client.post("/auth/logout", headers=bearer(token))).status == 200
        second = await client.post("/auth/logout", headers=bearer(token))
        await assert_error(second, 401, "token_revoked")

    async def test_login_answers_a_bearer_token_with_its_lifetime(
        self, client: Client
    ) -> None:
        response = await client.post(
            "/auth/login",
            json={"email": "alice@example.com", "password": ALICE_PASSWORD},
        )
        body = await response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert response.headers["Cache-Control"] == "no-store"
        header = jwt.get_unverified_header(body["access_token"])
        assert header["typ"] == "at+jwt"
        assert header["alg"] == "HS256"
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert set(claims) >= {"iss", "aud", "sub", "iat", "exp", "jti"}
        assert len(claims["jti"]) >= 22

    async def test_every_token_has_a_distinct_jti(self, client: Client) -> None:
        tokens = [await alice_token(client) for _ in range(3)]
        jtis = {
            jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens
        }
        assert len(jtis) == 3

    async def test_logging_out_one_token_leaves_the_others_working(
        self, client: Client
    ) -> None:
        first, second = await alice_token(client), await alice_token(client)
        await client.post("/auth/logout", headers=bearer(first))
        assert (await client.get("/api/profile", headers=bearer(second))).status == 200


class TestLogin:
    async def test_wrong_password_and_unknown_email_answer_the_same(
        self, client: Client
    ) -> None:
        wrong = await client.post(
            "/auth/login", json={"email": "alice@example.com", "password": "nope-nope"}
        )
        unknown = await client.post(
            "/auth/login", json={"email": "nobody@example.com", "password": "nope-nope"}
        )
        wrong_body = await assert_error(wrong, 401, "invalid_credentials")
        unknown_body = await assert_error(unknown, 401, "invalid_credentials")
        assert wrong_body == unknown_body

    async def test_email_is_case_insensitive(self, client: Client) -> None:
        token = await login(client, "  Alice@Example.COM ", ALICE_PASSWORD)
        assert token

    async def test_failures_past_the_limit_get_429_even_with_the_right_password(
        self, client: Client
    ) -> None:
        limit = app_of(client)[SETTINGS].signin_max_failures_per_email
        for _ in range(limit):
            response = await client.post(
                "/auth/login",
                json={"email": "alice@example.com", "password": "wrong-password"},
            )
            assert response.status == 401
        blocked = await client.post(
            "/auth/login",
            json={"email": "alice@example.com", "password": ALICE_PASSWORD},
        )
        await assert_error(blocked, 429, "too_many_attempts")
        assert int(blocked.headers["Retry-After"]) > 0

    async def test_behind_a_trusted_proxy_each_forwarded_address_has_its_limit(
        self, make_client: Any
    ) -> None:
        """Behind nginx every peer is nginx: the limit must follow the client."""
        settings = make_settings(
            trusted_proxy_hops=1,
            signin_max_failures_per_address=2,
            signin_max_failures_per_email=100,
        )
        client = await make_client(settings)
        wrong = {"email": "nobody@example.com", "password": "wrong-password"}

        def via(address: str) -> dict[str, str]:
            return {"X-Forwarded-For": f"198.51.100.1, {address}"}

        for _ in range(2):
            response = await client.post("/auth/login", json=wrong, headers=via("a"))
            assert response.status == 401
        blocked = await client.post("/auth/login", json=wrong, headers=via("a"))
        other = await client.post("/auth/login", json=wrong, headers=via("b"))

        await assert_error(blocked, 429, "too_many_attempts")
        await assert_error(other, 401, "invalid_credentials")

    async def test_successful_sign_ins_do_not_count_towards_the_limit(
        self, client: Client
    ) -> None:
        limit = app_of(client)[SETTINGS].signin_max_failures_per_email
        for _ in range(limit + 3):
            assert await alice_token(client)

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({}, "invalid_request"),
            ({"email": "alice@example.com"}, "invalid_request"),
            ({"email": 5, "password": "x"}, "invalid_request"),
            ({"email": "a@b.c", "password": ["x"]}, "invalid_request"),
            ({"email": "", "password": "x"}, "invalid_request"),
            ({"email": "a" * 300, "password": "x"}, "invalid_request"),
        ],
    )
    async def test_wrong_fields_are_400(
        self, client: Client, body: dict[str, Any], code: str
    ) -> None:
        await assert_error(await client.post("/auth/login", json=body), 400, code)

    @pytest.mark.parametrize(
        "raw",
        [b"", b"{", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000, b"1" * 5000],
    )
    async def test_malformed_bodies_are_400(self, client: Client, raw: bytes) -> None:
        response = await client.post(
            "/auth/login", data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status in {400, 413}
        body = await response.json()
        assert body["error"] in {"invalid_request", "body_too_large"}

    async def test_oversized_body_is_413(self, client: Client) -> None:
        response = await client.post(
            "/auth/login",
            data=b'{"email": "' + b"a" * 100_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        await assert_error(response, 413, "body_too_large")


class TestBearerTokens:
    async def test_missing_authorization_is_401_missing_token(
        self, client: Client
    ) -> None:
        response = await client.get("/api/profile")
        await assert_error(response, 401, "missing_token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        ["Basic abc", "Bearer", "Bearer ", "Token x.y.z", "bearer", "Bearer a b c"],
    )
    async def test_malformed_authorization_is_401(
        self, client: Client, header: str
    ) -> None:
        response = await client.get("/api/profile", headers={"Authorization": header})
        await assert_error(response, 401, "invalid_token")

    @pytest.mark.parametrize(
        "token",
        [
            "garbage",
            "a.b.c",
            "....",
            "eyJhbGciOiJIUzI1NiJ9.e30.",
            "x" * 5000,
            "ĳ.ĳ.ĳ",
        ],
    )
    async def test_garbage_tokens_are_401(self, client: Client, token: str) -> None:
        response = await client.get("/api/profile", headers=bearer(token))
        await assert_error(response, 401, "invalid_token")

    async def test_alg_none_is_rejected(self, client: Client) -> None:
        real = await alice_token(client)
        claims = jwt.decode(real, options={"verify_signature": False})
        unsigned = jwt.encode(
            claims,
            None,
            algorithm="none",
            headers={"typ": "at+jwt", "kid": kid_of(client, real)},
        )
        response = await client.get("/api/profile", headers=bearer(unsigned))
        await assert_error(response, 401, "invalid_token")

    async def test_wrong_signature_is_rejected(self, client: Client) -> None:
        real = await alice_token(client)
        claims = jwt.decode(real, options={"verify_signature": False})
        forged = forge(
            claims, secret="another-secret-" + "x" * 40, kid=kid_of(client, real)
        )
        response = await client.get("/api/profile", headers=bearer(forged))
        body = await assert_error(response, 401, "invalid_token")
        assert "signature" in body["message"]

    async def test_tampered_payload_is_rejected(self, client: Client) -> None:
        real = await alice_token(client)
        head, payload, signature = real.split(".")
        tampered = f"{head}.{payload[:-2]}AA.{signature}"
        response = await client.get("/api/profile", headers=bearer(tampered))
        await assert_error(response, 401, "invalid_token")

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"aud": "someone-else"}, "aud"),
            ({"iss": "someone-else"}, "iss"),
            ({"jti": None}, "jti"),
            ({"sub": None}, "sub"),
            ({"exp": None}, "exp"),
            ({"iat": None}, "iat"),
            ({"jti": 12345}, "jti"),
            ({"sub": ["a"]}, "sub"),
            ({"roles": "admin"}, "roles"),
        ],
    )
    async def test_wrong_or_missing_claims_are_rejected_by_name(
        self, client: Client, change: dict[str, Any], named: str
    ) -> None:
        real = await alice_token(client)
        token = forge(valid_claims(client, **change), kid=kid_of(client, real))
        response = await client.get("/api/profile", headers=bearer(token))
        body = await assert_error(response, 401, "invalid_token")
        assert named in body["message"]

    async def test_expired_token_is_401_token_expired(self, client: Client) -> None:
        real = await alice_token(client)
        past = time.time() - 3600
        token = forge(
            valid_claims(client, iat=past, exp=past + 60), kid=kid_of(client, real)
        )
        response = await client.get("/api/profile", headers=bearer(token))
        await assert_error(response, 401, "token_expired")

    @pytest.mark.parametrize(
        "header",
        [{"typ": "JWT"}, {"kid": "unknown"}, {"crit": ["exp"]}],
    )
    async def test_header_games_are_rejected(
        self, client: Client, header: dict[str, Any]
    ) -> None:
        real = await alice_token(client)
        token = forge(valid_claims(client), **{"kid": kid_of(client, real), **header})
        response = await client.get("/api/profile", headers=bearer(token))
        await assert_error(response, 401, "invalid_token")

    async def test_a_token_signed_by_us_with_valid_claims_is_accepted(
        self, client: Client
    ) -> None:
        """Guards the tests above: their forgeries differ from this in one thing."""
        real = await alice_token(client)
        token = forge(valid_claims(client), kid=kid_of(client, real))
        assert (await client.get("/api/profile", headers=bearer(token))).status == 200


class TestAdminRevocations:
    async def test_admin_revokes_a_jti_and_reads_it_back(self, client: Client) -> None:
        victim = await alice_token(client)
        jti = jwt.decode(victim, options={"verify_signature": False})["jti"]
        admin = await admin_token(client)

        created = await client.post(
            "/admin/revocations", json={"jti": jti}, headers=bearer(admin)
        )
        assert created.status == 201
        body = await created.json()
        assert body["jti"] == jti
        assert body["revoked"] is True

        shown = await client.get(f"/admin/revocations/{jti}", headers=bearer(admin))
        assert shown.status == 200
        assert (await shown.json())["expires_at"] == body["expires_at"]

        profile = await client.get("/api/profile", headers=bearer(victim))
        await assert_error(profile, 401, "token_revoked")

    async def test_revocation_without_expiry_lives_for_the_longest_lifetime(
        self, client: Client
    ) -> None:
        admin = await admin_token(client)
        settings = app_of(client)[SETTINGS]
        before = time.time()
        created = await client.post(
            "/admin/revocations", json={"jti": "some-jti"}, headers=bearer(admin)
        )
        expires_at = (await created.json())["expires_at"]
        assert expires_at >= before + settings.revocation_horizon - 1
        assert expires_at <= time.time() + settings.revocation_horizon + 1

    async def test_admin_revokes_a_whole_token(self, client: Client) -> None:
        victim = await alice_token(client)
        admin = await admin_token(client)
        created = await client.post(
            "/admin/revocations", json={"token": victim}, headers=bearer(admin)
        )
        assert created.status == 201
        profile = await client.get("/api/profile", headers=bearer(victim))
        await assert_error(profile, 401, "token_revoked")

    async def test_revoking_a_forged_token_is_400(self, client: Client) -> None:
        admin = await admin_token(client)
        forged = forge(valid_claims(client), secret="x" * 40, kid="nope")
        response = await client.post(
            "/admin/revocations", json={"token": forged}, headers=bearer(admin)
        )
        await assert_error(response, 400, "invalid_request")

    async def test_unknown_jti_is_404(self, client: Client) -> None:
        admin = await admin_token(client)
        response = await client.get("/admin/revocations/never", headers=bearer(admin))
        await assert_error(response, 404, "not_found")

    async def test_non_admin_is_403(self, client: Client) -> None:
        token = await alice_token(client)
        response = await client.post(
            "/admin/revocations", json={"jti": "x"}, headers=bearer(token)
        )
        await assert_error(response, 403, "insufficient_role")

    async def test_anonymous_is_401(self, client: Client) -> None:
        response = await client.post("/admin/revocations", json={"jti": "x"})
        await assert_error(response, 401, "missing_token")

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"jti": ""},
            {"jti": 5},
            {"jti": "has space"},
            {"jti": "x", "expires_at": "soon"},
            {"jti": "x", "expires_at": True},
            {"jti": "x", "token": "y"},
            {"token": 7},
        ],
    )
    async def test_bad_bodies_are_400(
        self, client: Client, body: dict[str, Any]
    ) -> None:
        admin = await admin_token(client)
        response = await client.post(
            "/admin/revocations", json=body, headers=bearer(admin)
        )
        await assert_error(response, 400, "invalid_request")


class TestRevokeAll:
    async def test_tokens_issued_before_fail_and_later_ones_work(
        self, client: Client
    ) -> None:
        old = await alice_token(client)
        profile = await (await client.get("/api/profile", headers=bearer(old))).json()
        admin = await admin_token(client)

        response = await client.post(
            f"/admin/subjects/{profile['sub']}/revoke-all", headers=bearer(admin)
        )
        assert response.status == 200

        rejected = await client.get("/api/profile", headers=bearer(old))
        await assert_error(rejected, 401, "token_revoked")
        new = await alice_token(client)
        assert (await client.get("/api/profile", headers=bearer(new))).status == 200

    async def test_other_subjects_are_untouched(self, client: Client) -> None:
        alice = await alice_token(client)
        admin = await admin_token(client)
        await client.post(
            "/admin/subjects/someone-else/revoke-all", headers=bearer(admin)
        )
        assert (await client.get("/api/profile", headers=bearer(alice))).status == 200


class TestProbesAndRouting:
    async def test_health_is_200(self, client: Client) -> None:
        assert (await client.get("/health")).status == 200

    async def test_ready_reports_the_replica(self, client: Client) -> None:
        response = await client.get("/ready")
        body = await response.json()
        assert body["replica"] in {"live", "syncing"}
        assert body["store"] == "ok"
        assert response.status == 200

    async def test_unknown_route_is_json_404(self, client: Client) -> None:
        await assert_error(await client.get("/nope"), 404, "not_found")

    async def test_wrong_method_is_json_405(self, client: Client) -> None:
        await assert_error(await client.get("/auth/login"), 405, "method_not_allowed")

    async def test_a_405_lists_the_allowed_methods(self, client: Client) -> None:
        response = await client.request("TRACE", "/api/profile")

        assert response.status == 405
        assert response.headers["Allow"] in {"GET,HEAD", "GET, HEAD", "GET"}
