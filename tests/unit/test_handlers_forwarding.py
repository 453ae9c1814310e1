"""The client address behind trusted proxies, as the sign-in limit sees it."""

from __future__ import annotations

from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from service.handlers.forwarding import client_address


def request_from(peer: str, *forwarded: str) -> web.Request:
    """Build a request that came from ``peer`` with these X-Forwarded-For lines."""
    headers = CIMultiDict(("X-Forwarded-For", line) for line in forwarded)
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 40000)
    return make_mocked_request("POST", "/auth/login", headers, transport=transport)


def test_without_trusted_proxies_the_peer_counts_and_the_header_is_ignored() -> None:
    request = request_from("203.0.113.9", "198.51.100.1")
    assert client_address(request, 0) == "203.0.113.9"


def test_one_trusted_proxy_gives_the_address_it_appended() -> None:
    request = request_from("10.0.0.2", "198.51.100.1, 203.0.113.7")
    assert client_address(request, 1) == "203.0.113.7"


def test_entries_a_client_forged_left_of_the_proxies_are_ignored() -> None:
    request = request_from("10.0.0.2", "1.1.1.1, 2.2.2.2", "203.0.113.7, 10.0.0.9")
    assert client_address(request, 2) == "203.0.113.7"


@pytest.mark.parametrize("forwarded", [(), ("",), (" , ",)])
def test_a_request_that_skipped_the_proxies_counts_as_the_peer(
    forwarded: tuple[str, ...],
) -> None:
    request = request_from("203.0.113.9", *forwarded)
    assert client_address(request, 1) == "203.0.113.9"
