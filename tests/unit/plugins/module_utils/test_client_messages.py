# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client's messages name the path that was requested: with an api_url that has a path, that path included."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    NotFoundError, RateLimitError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.transport import TIMEOUT
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import ACCOUNT, API_URL, Harness

GATEWAY = API_URL + "/gateway"


@pytest.fixture
def harness():
    harness = Harness()
    harness.transport.api_url = GATEWAY  # the fake strips this prefix: expectations name the API's own paths
    yield harness
    harness.transport.assert_done()


def test_a_timeout_names_the_requested_path(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, fail=(TIMEOUT, "read timed out"))
    with pytest.raises(TransportError) as caught:
        harness.client(api_url=GATEWAY).get_account()
    assert str(caught.value).startswith("POST /gateway/o/api/v3.2/account: no answer from tenant.example.test")
    assert [line for line in harness.log_lines if "POST /gateway/o/api/v3.2/account: read timed out" in line]


def test_a_404_names_the_requested_path_and_says_what_to_fix(harness):
    harness.expect("POST", ACCOUNT, status=404, body={"error": "not found"})
    with pytest.raises(NotFoundError) as caught:
        harness.client(api_url=GATEWAY + "/").get_account()
    message = str(caught.value)
    assert message.startswith("POST /gateway/o/api/v3.2/account failed: HTTP 404"), message
    assert message.endswith("api_url has a path (/gateway), and the API's paths start at the host: give api_url"
                            " without it, for example %s" % API_URL), message
    assert ".." not in message


def test_an_unexpected_answer_and_a_rate_limit_name_the_requested_path(harness):
    harness.expect("POST", ACCOUNT, body=["not", "an", "object"])
    with pytest.raises(UnexpectedResponseError, match=r"^POST /gateway/o/api/v3\.2/account: unexpected answer"):
        harness.client(api_url=GATEWAY).get_account()
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "5"})
    with pytest.raises(RateLimitError, match=r"^POST /gateway/o/api/v3\.2/account: rate limited"):
        harness.client(api_url=GATEWAY, rate_limit_timeout=0).get_account()
    assert [line for line in harness.log_lines if "POST /gateway/o/api/v3.2/account -> HTTP 200" in line]


def test_without_a_path_a_404_has_no_hint():
    harness = Harness()
    harness.expect("POST", ACCOUNT, status=404, body={"error": "not found"})
    with pytest.raises(NotFoundError) as caught:
        harness.client().get_account()
    assert str(caught.value).startswith("POST /o/api/v3.2/account failed: HTTP 404")
    assert "api_url has a path" not in str(caught.value)
    harness.transport.assert_done()
