"""The OpenAPI document stays true: its routes, its error codes, real answers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import fakeredis
import jsonschema
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from service import errors
from service.accounts.passwords import MAX_PASSWORD_LENGTH, Passwords
from service.appkeys import SETTINGS
from service.config import RevocationCache
from service.handlers.openapi import DOCUMENT
from service.storage.connection import RedisClients
from service.tokens.verifier import MAX_TOKEN_LENGTH
from tests.conftest import (
    ADMIN_PASSWORD,
    ALICE_PASSWORD,
    add_user,
    app_of,
    bearer,
    login,
    make_settings,
)

Client = TestClient[Any, Any]

DOC: dict[str, Any] = json.loads(DOCUMENT)
BASE_URI = "urn:openapi"
REGISTRY: Registry[Any] = Registry().with_resource(
    BASE_URI, Resource.from_contents(DOC, default_specification=DRAFT202012)
)
HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options", "trace"}

# Not a class in service/errors.py: the middleware's code for any other
# aiohttp HTTP error it has no mapping for.
MIDDLEWARE_ONLY_CODES = {"http_error"}


def escape(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901 section 3)."""
    return token.replace("~", "~0").replace("/", "~1")


def resolve(pointer: str) -> Any:
    """Return the node of the document at a JSON Pointer."""
    node: Any = DOC
    for token in pointer.lstrip("/").split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def follow(pointer: str) -> tuple[str, dict[str, Any]]:
    """Return the pointer and node an OpenAPI object ends at after its $refs."""
    node = resolve(pointer)
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = resolve(pointer)
    return pointer, node


def validate(instance: object, schema_pointer: str) -> None:
    """Validate an instance against the JSON Schema at a pointer of the document."""
    schema = {"$ref": f"{BASE_URI}#{schema_pointer}"}
    jsonschema.Draft202012Validator(schema, registry=REGISTRY).validate(instance)


def walk(node: object, pointer: str = "") -> Iterator[tuple[str, object]]:
    """Yield every node of a JSON value with its pointer."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{pointer}/{index}")


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOC["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def routed_operations(client: Client) -> set[tuple[str, str]]:
    app = app_of(client)
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }


def error_codes_of_the_exception_tree() -> set[str]:
    found: set[str] = set()
    pending: list[type[errors.ServiceError]] = [errors.ServiceError]
    while pending:
        cls = pending.pop()
        found.add(cls.code)
        pending.extend(cls.__subclasses__())
    return found


def documented_error_codes() -> set[str]:
    return set(DOC["components"]["schemas"]["ErrorCode"]["enum"])


def operation_pointer(method: str, template: str) -> str:
    return f"/paths/{escape(template)}/{method.lower()}"


def coerce_header(value: str, schema: dict[str, Any]) -> object:
    return int(value) if schema.get("type") == "integer" else value


def assert_headers_conform(response_pointer: str, headers: Any) -> None:
    documented = resolve(response_pointer).get("headers", {})
    for name in documented:
        header_pointer, header = follow(f"{response_pointer}/headers/{escape(name)}")
        if name not in headers:
            assert not header.get("required"), f"required header {name} is missing"
            continue
        value = coerce_header(headers[name], header["schema"])
        validate(value, f"{header_pointer}/schema")


async def assert_conforms(method: str, template: str, response: ClientResponse) -> None:
    """Assert a real answer is documented for its operation and matches it."""
    responses = f"{operation_pointer(method, template)}/responses"
    documented = resolve(responses)
    status = str(response.status)
    assert status in documented, f"{method} {template} does not document {status}"

    response_pointer, definition = follow(f"{responses}/{status}")
    assert_headers_conform(response_pointer, response.headers)

    body = await response.read()
    if method == "HEAD" or "content" not in definition:
        assert body == b""
        return
    assert response.content_type in definition["content"]
    schema_pointer = (
        f"{response_pointer}/content/{escape(response.content_type)}/schema"
    )
    validate(json.loads(body), schema_pointer)


@dataclass
class Caller:
    """Send requests for the conformance cases, with tokens signed in lazily."""

    client: Client
    _tokens: dict[str, str]

    async def token(self, who: str) -> str:
        if who not in self._tokens:
            password = ADMIN_PASSWORD if who == "admin" else ALICE_PASSWORD
            self._tokens[who] = await login(self.client, f"{who}@example.com", password)
        return self._tokens[who]

    async def send(
        self, method: str, path: str, *, who: str | None = None, **kwargs: Any
    ) -> ClientResponse:
        headers = bearer(await self.token(who)) if who else {}
        headers.update(kwargs.pop("headers", {}))
        return await self.client.request(method, path, headers=headers, **kwargs)


Case = Callable[[Caller], Awaitable[ClientResponse]]


async def throttled_login(caller: Caller) -> ClientResponse:
    app = app_of(caller.client)
    body = {"email": "alice@example.com", "password": "wrong-password"}
    for _ in range(app[SETTINGS].signin_max_failures_per_email):
        await caller.send("POST", "/auth/login", json=body)
    return await caller.send("POST", "/auth/login", json=body)


async def revoked_profile(caller: Caller) -> ClientResponse:
    await caller.send("POST", "/auth/logout", who="alice")
    return await caller.send("GET", "/api/profile", who="alice")


async def shown_revocation(caller: Caller) -> ClientResponse:
    await caller.send("POST", "/admin/revocations", who="admin", json={"jti": "j-1"})
    return await caller.send("GET", "/admin/revocations/j-1", who="admin")


LOGIN = {"email": "alice@example.com", "password": ALICE_PASSWORD}
TOO_LARGE = b'{"jti": "' + b"a" * 100_000 + b'"}'

# (method, path template, case): one real answer each, covering every status
# the app can give in-process with Redis up.
CASES: dict[str, tuple[str, str, Case]] = {
    "login 200": (
        "POST",
        "/auth/login",
        lambda c: c.send("POST", "/auth/login", json=LOGIN),
    ),
    "login 400": (
        "POST",
        "/auth/login",
        lambda c: c.send("POST", "/auth/login", json={"email": "x"}),
    ),
    "login 401": (
        "POST",
        "/auth/login",
        lambda c: c.send("POST", "/auth/login", json={**LOGIN, "password": "no"}),
    ),
    "login 413": (
        "POST",
        "/auth/login",
        lambda c: c.send("POST", "/auth/login", data=TOO_LARGE),
    ),
    "login 429": ("POST", "/auth/login", throttled_login),
    "logout 200": (
        "POST",
        "/auth/logout",
        lambda c: c.send("POST", "/auth/logout", who="alice"),
    ),
    "logout 401 missing": (
        "POST",
        "/auth/logout",
        lambda c: c.send("POST", "/auth/logout"),
    ),
    "profile 200": (
        "GET",
        "/api/profile",
        lambda c: c.send("GET", "/api/profile", who="alice"),
    ),
    "profile HEAD 200": (
        "HEAD",
        "/api/profile",
        lambda c: c.send("HEAD", "/api/profile", who="alice"),
    ),
    "profile 401 invalid": (
        "GET",
        "/api/profile",
        lambda c: c.send("GET", "/api/profile", headers=bearer("a.b.c")),
    ),
    "profile 401 revoked": ("GET", "/api/profile", revoked_profile),
    "revocation 201": (
        "POST",
        "/admin/revocations",
        lambda c: c.send("POST", "/admin/revocations", who="admin", json={"jti": "j"}),
    ),
    "revocation 400": (
        "POST",
        "/admin/revocations",
        lambda c: c.send("POST", "/admin/revocations", who="admin", json={"jti": 1}),
    ),
    "revocation 403": (
        "POST",
        "/admin/revocations",
        lambda c: c.send("POST", "/admin/revocations", who="alice", json={"jti": "j"}),
    ),
    "revocation 413": (
        "POST",
        "/admin/revocations",
        lambda c: c.send("POST", "/admin/revocations", who="admin", data=TOO_LARGE),
    ),
    "show revocation 200": ("GET", "/admin/revocations/{jti}", shown_revocation),
    "show revocation 400": (
        "GET",
        "/admin/revocations/{jti}",
        lambda c: c.send("GET", "/admin/revocations/a%20b", who="admin"),
    ),
    "show revocation 404": (
        "GET",
        "/admin/revocations/{jti}",
        lambda c: c.send("GET", "/admin/revocations/never", who="admin"),
    ),
    "show revocation HEAD 404": (
        "HEAD",
        "/admin/revocations/{jti}",
        lambda c: c.send("HEAD", "/admin/revocations/never", who="admin"),
    ),
    "revoke-all 200": (
        "POST",
        "/admin/subjects/{sub}/revoke-all",
        lambda c: c.send("POST", "/admin/subjects/s%2F1/revoke-all", who="admin"),
    ),
    "revoke-all 403": (
        "POST",
        "/admin/subjects/{sub}/revoke-all",
        lambda c: c.send("POST", "/admin/subjects/s/revoke-all", who="alice"),
    ),
    "health 200": ("GET", "/health", lambda c: c.send("GET", "/health")),
    "health HEAD 200": ("HEAD", "/health", lambda c: c.send("HEAD", "/health")),
    "ready 200": ("GET", "/ready", lambda c: c.send("GET", "/ready")),
    "openapi 200": ("GET", "/openapi.json", lambda c: c.send("GET", "/openapi.json")),
}

# The same with Redis unreachable and no replica to fall back on.
STORE_DOWN_CASES: dict[str, tuple[str, str, Case]] = {
    "login 503": (
        "POST",
        "/auth/login",
        lambda c: c.send("POST", "/auth/login", json=LOGIN),
    ),
    "logout 503": (
        "POST",
        "/auth/logout",
        lambda c: c.send("POST", "/auth/logout", who="alice"),
    ),
    "profile 503": (
        "GET",
        "/api/profile",
        lambda c: c.send("GET", "/api/profile", who="alice"),
    ),
    "revocation 503": (
        "POST",
        "/admin/revocations",
        lambda c: c.send("POST", "/admin/revocations", who="admin", json={"jti": "j"}),
    ),
    "ready 503": ("GET", "/ready", lambda c: c.send("GET", "/ready")),
}


@pytest.fixture
def fake_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def fake_clients(fake_server: fakeredis.FakeServer) -> RedisClients:
    """Override conftest's, so that a test can take this Redis down."""
    client = fakeredis.FakeAsyncRedis(server=fake_server)
    return RedisClients(commands=client, replica=client, embedded=True)


@pytest.fixture
async def caller(client: Client) -> Caller:
    return Caller(client, {})


@pytest.fixture
async def store_down_caller(
    make_client: Callable[..., Awaitable[Client]],
    fake_server: fakeredis.FakeServer,
    passwords: Passwords,
) -> Caller:
    """A caller signed in as alice and admin, then cut off from Redis."""
    settings = replace(make_settings(), revocation_cache=RevocationCache.OFF)
    client = await make_client(settings)
    await add_user(app_of(client), passwords, "alice@example.com", ALICE_PASSWORD)
    await add_user(
        app_of(client), passwords, "admin@example.com", ADMIN_PASSWORD, admin=True
    )
    caller = Caller(client, {})
    await caller.token("alice")
    await caller.token("admin")

    fake_server.connected = False
    return caller


class TestRoutes:
    async def test_every_route_is_documented_with_its_method(
        self, client: Client
    ) -> None:
        undocumented = routed_operations(client) - documented_operations()
        assert not undocumented

    async def test_every_documented_operation_is_routed(self, client: Client) -> None:
        unrouted = documented_operations() - routed_operations(client)
        assert not unrouted

    async def test_the_document_is_served_as_packaged(self, client: Client) -> None:
        response = await client.get("/openapi.json")
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.read() == DOCUMENT


class TestErrorCodes:
    def test_every_code_of_the_exception_tree_is_in_the_enum(self) -> None:
        missing = error_codes_of_the_exception_tree() - documented_error_codes()
        assert not missing

    def test_the_enum_has_no_code_the_service_cannot_give(self) -> None:
        known = error_codes_of_the_exception_tree() | MIDDLEWARE_ONLY_CODES
        assert documented_error_codes() <= known


class TestDocument:
    def test_it_is_openapi_3_1(self) -> None:
        assert DOC["openapi"].startswith("3.1.")
        assert DOC["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"

    def test_every_reference_resolves(self) -> None:
        refs = [
            node["$ref"]
            for _, node in walk(DOC)
            if isinstance(node, dict) and _is_ref(node)
        ]
        assert refs
        for ref in refs:
            assert ref.startswith("#/"), ref
            resolve(ref.removeprefix("#"))

    def test_every_schema_is_a_valid_json_schema(self) -> None:
        schemas = [node for pointer, node in walk(DOC) if _is_schema(pointer)]
        assert len(schemas) > 10
        for schema in schemas:
            assert isinstance(schema, dict | bool), schema
            jsonschema.Draft202012Validator.check_schema(schema)

    def test_every_operation_documents_its_responses_and_security(self) -> None:
        for method, path in documented_operations():
            operation = resolve(operation_pointer(method, path))
            assert operation["responses"], (method, path)
            assert "security" in operation, (method, path)

    def test_protected_operations_document_the_bearer_challenge(self) -> None:
        for method, path in documented_operations():
            operation = resolve(operation_pointer(method, path))
            if not operation["security"]:
                continue
            pointer = f"{operation_pointer(method, path)}/responses/401"
            _, unauthorized = follow(pointer)
            assert unauthorized["headers"]["WWW-Authenticate"], (method, path)

    def test_documented_length_limits_are_the_code_s(self) -> None:
        schemas = DOC["components"]["schemas"]
        password = schemas["LoginRequest"]["properties"]["password"]
        token = schemas["RevokeByToken"]["properties"]["token"]
        assert password["maxLength"] == MAX_PASSWORD_LENGTH
        assert token["maxLength"] == MAX_TOKEN_LENGTH


def _is_ref(node: object) -> bool:
    return isinstance(node, dict) and isinstance(node.get("$ref"), str)


def _is_schema(pointer: str) -> bool:
    parent, _, last = pointer.rpartition("/")
    return last == "schema" or parent == "/components/schemas"


class TestRealAnswersConform:
    @pytest.mark.parametrize("name", sorted(CASES))
    async def test_with_redis_up(self, caller: Caller, name: str) -> None:
        method, template, case = CASES[name]
        await assert_conforms(method, template, await case(caller))

    @pytest.mark.parametrize("name", sorted(STORE_DOWN_CASES))
    async def test_with_redis_down(self, store_down_caller: Caller, name: str) -> None:
        method, template, case = STORE_DOWN_CASES[name]
        response = await case(store_down_caller)
        assert response.status == 503
        await assert_conforms(method, template, response)


# Request bodies at and past each documented limit: the schema and the
# handler must agree on which are acceptable (not a 400).
LOGIN_BODIES = [
    {"email": "a" * 254, "password": "x"},
    {"email": "a" * 255, "password": "x"},
    {"email": "a@b.c", "password": "p" * MAX_PASSWORD_LENGTH},
    {"email": "a@b.c", "password": "p" * (MAX_PASSWORD_LENGTH + 1)},
    {"email": "a@b.c", "password": "x", "unknown": {"nested": [1]}},
    {"email": None, "password": "x"},
    {"email": "a@b.c", "password": ""},
]
REVOCATION_BODIES = [
    {"jti": "j" * 128},
    {"jti": "j" * 129},
    {"jti": "a-Z_0.9:"},
    {"jti": "é"},
    {"jti": "j", "expires_at": None},
    {"jti": "j", "expires_at": 4_000_000_000},
    {"jti": "j", "expires_at": 10**30},
    {"jti": "j", "expires_at": -1},
    {"jti": "j", "expires_at": 1.5},
    {"jti": "j", "unknown": True},
    {"jti": None},
    {"token": None},
    {"token": "t" * (MAX_TOKEN_LENGTH + 1)},
    {"token": "", "jti": "j"},
]


def _body_id(body: object) -> str:
    text = json.dumps(body)
    return text if len(text) <= 48 else f"{text[:40]}...{len(text)}"


def _is_valid(instance: object, schema_name: str) -> bool:
    try:
        validate(instance, f"/components/schemas/{schema_name}")
    except jsonschema.ValidationError:
        return False
    return True


class TestRequestSchemasAgreeWithHandlers:
    @pytest.mark.parametrize("body", LOGIN_BODIES, ids=_body_id)
    async def test_login(self, caller: Caller, body: dict[str, Any]) -> None:
        response = await caller.send("POST", "/auth/login", json=body)
        assert response.status < 500, await response.text()
        assert (response.status != 400) == _is_valid(body, "LoginRequest")

    @pytest.mark.parametrize("body", REVOCATION_BODIES, ids=_body_id)
    async def test_revocation(self, caller: Caller, body: dict[str, Any]) -> None:
        response = await caller.send(
            "POST", "/admin/revocations", who="admin", json=body
        )
        assert response.status < 500, await response.text()
        assert (response.status != 400) == _is_valid(body, "RevocationRequest")

    async def test_an_expiry_in_the_past_is_the_one_rule_no_schema_states(
        self, caller: Caller
    ) -> None:
        """A schema cannot compare with now; the document says it in words."""
        body = {"jti": "j", "expires_at": 0}
        response = await caller.send(
            "POST", "/admin/revocations", who="admin", json=body
        )

        assert _is_valid(body, "RevocationRequest")
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_request"
        assert (
            "future"
            in DOC["components"]["schemas"]["RevokeByJti"]["properties"]["expires_at"][
                "description"
            ]
        )
