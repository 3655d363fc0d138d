# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client's policies: authentication, pacing, 429 handling, retries and status mapping."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from email.utils import formatdate

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import client as client_module
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, AuthenticationError, NotFoundError, RateLimitError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.pacing import state_directory
from ansible_collections.opswat.it_access.plugins.module_utils.transport import DROPPED, NOT_SENT, TIMEOUT, TLS
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, ACTION, API_URL, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, GROUPS, NO_TOKEN, TOKEN,
    FakeTransport, make_config)

TOKEN_FORM = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}


def credentials(**overrides):
    values = dict(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    values.update(overrides)
    return values


def expect_token(harness, token=FETCHED_TOKEN, expires_in=43199, **kwargs):
    harness.expect("POST", TOKEN, token=NO_TOKEN, form=TOKEN_FORM,
                   body={"access_token": token, "token_type": "bearer", "expires_in": expires_in, "scope": "read"},
                   **kwargs)


# ---------------------------------------------------------------------- construction and basics


def test_exports_and_user_agent():
    assert client_module.HAS_REQUESTS is True
    assert client_module.REQUESTS_IMPORT_ERROR is None
    assert client_module.USER_AGENT == "opswat.it_access/%s" % client_module.VERSION


@pytest.mark.parametrize("settings, verify", [
    (dict(), True),
    (dict(validate_certs=False), False),
    (dict(ca_path="/etc/ca.pem"), "/etc/ca.pem"),
    (dict(validate_certs=False, ca_path="/etc/ca.pem"), "/etc/ca.pem"),
])
def test_default_transport_settings(settings, verify):
    client = Client(make_config(timeout=12, **settings))
    try:
        transport = client._transport  # pylint: disable=protected-access
        assert transport.verify == verify
        assert transport.timeout == 12.0
        assert transport._session.headers["User-Agent"] == client_module.USER_AGENT  # pylint: disable=protected-access
    finally:
        client.close()


def test_missing_requests_is_reported(monkeypatch):
    monkeypatch.setattr(client_module, "HAS_REQUESTS", False)
    with pytest.raises(TransportError, match="requests is required"):
        Client(make_config())


def test_close_closes_the_transport(harness):
    with harness.client() as client:
        pass
    assert client is not None and harness.transport.closed


def test_get_account_sends_score_type_and_the_token(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, json_body={"score_type": "cvss"}, body={"name": "acme"})
    assert harness.client().get_account(score_type="cvss") == {"name": "acme"}


def test_get_account_default_score_type(harness):
    harness.expect("POST", ACCOUNT, json_body={"score_type": "opswat_score"}, body={})
    assert harness.client().get_account() == {}


def test_account_answer_that_is_not_an_object(harness):
    harness.expect("POST", ACCOUNT, body=[1, 2])
    with pytest.raises(UnexpectedResponseError, match="expected a JSON object"):
        harness.client().get_account()


# ---------------------------------------------------------------------- authentication


def test_client_credentials_fetch_a_token_and_report_it(harness):
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"ok": 1})
    client = harness.client(**credentials())
    assert client.get_account() == {"ok": 1}
    assert harness.secrets == [FETCHED_TOKEN]
    assert client.metrics == dict(requests=2, throttled=0, retries=0, waited_seconds=0.0)
    assert FETCHED_TOKEN not in client.redact("token %s" % FETCHED_TOKEN)


def test_token_is_reused_until_60_seconds_before_it_expires(harness):
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    expect_token(harness, token="second-token-SECRET", expires_in=3600)
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", body={})
    client = harness.client(**credentials())
    client.get_account()
    harness.clock.now += 3600 - 62
    client.get_account()
    harness.clock.now += 3
    client.get_account()
    assert harness.secrets == [FETCHED_TOKEN, "second-token-SECRET"]


def test_short_token_lifetime_is_refreshed_at_half_life(harness):
    expect_token(harness, expires_in=100)
    harness.expect("POST", ACCOUNT, body={})
    harness.expect("POST", ACCOUNT, body={})
    expect_token(harness, token="second-token-SECRET", expires_in=100)
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", body={})
    client = harness.client(**credentials())
    client.get_account()  # token fetched at t0 (the account request then waits 1 s of pacing)
    harness.clock.now += 48
    client.get_account()  # t0 + 49 < t0 + 50
    harness.clock.now += 2
    client.get_account()


@pytest.mark.parametrize("expires_in", [None, "junk", -5, 0])
def test_token_without_a_usable_lifetime_is_used_until_rejected(harness, expires_in):
    expect_token(harness, expires_in=expires_in)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    client = harness.client(**credentials())
    client.get_account()
    harness.clock.now += 10 ** 6
    client.get_account()


def test_token_expires_in_as_a_string(harness):
    expect_token(harness, expires_in="100")
    harness.expect("POST", ACCOUNT, body={})
    expect_token(harness, token="second-token-SECRET")
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", body={})
    client = harness.client(**credentials())
    client.get_account()
    harness.clock.now += 60
    client.get_account()


def test_401_fetches_a_new_token_and_retries_once(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401, body={"error": "invalid_token"})
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"ok": 1})
    client = harness.client(**credentials(access_token=ACCESS_TOKEN))
    assert client.get_account() == {"ok": 1}
    assert client.metrics == dict(requests=3, throttled=0, retries=1, waited_seconds=0.0)
    assert harness.secrets == [FETCHED_TOKEN]


def test_401_twice_is_an_authentication_error(harness):
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, status=401)
    expect_token(harness, token="second-token-SECRET")
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", status=401)
    with pytest.raises(AuthenticationError, match="the access token was rejected: expired or invalid") as caught:
        harness.client(**credentials()).get_account()
    assert "freshly fetched" in str(caught.value)
    assert caught.value.details["status"] == 401


@pytest.mark.parametrize("status", [400, 401])
def test_bad_client_credentials(harness, status):
    harness.expect("POST", TOKEN, form=TOKEN_FORM, status=status, body={"error": "invalid_client"})
    client = harness.client(**credentials())
    with pytest.raises(AuthenticationError, match="the client credentials were rejected") as caught:
        client.get_account()
    assert "HTTP %d" % status in str(caught.value)
    assert client.metrics["requests"] == 1


def test_access_token_only_and_401(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401)
    client = harness.client()
    with pytest.raises(AuthenticationError, match="the access token was rejected: expired or invalid"):
        client.get_account()
    assert client.metrics["requests"] == 1


@pytest.mark.parametrize("answer", [{"token_type": "bearer"}, {"access_token": ""}, ["x"], {"access_token": 5}])
def test_token_answer_without_a_token(harness, answer):
    harness.expect("POST", TOKEN, body=answer)
    with pytest.raises(UnexpectedResponseError, match="holds no access_token"):
        harness.client(**credentials()).get_account()


def test_token_request_is_paced_and_retried_like_any_read(harness):
    harness.expect("POST", TOKEN, status=503)
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    client = harness.client(**credentials())
    client.get_account()
    times = [call.time for call in harness.transport.calls]
    assert [later - earlier for earlier, later in zip(times, times[1:])] == [1.0, 1.0]
    assert client.metrics == dict(requests=3, throttled=0, retries=1, waited_seconds=1.0)


# ---------------------------------------------------------------------- pacing


def test_pace_margin_spaces_requests_one_percent_above_the_budget(harness):
    for _attempt in range(2):
        harness.expect("POST", ACCOUNT, body={})
    client = harness.client(make_config(requests_per_minute=10, pace_margin=1.01))
    client.get_account()
    client.get_account()
    first, second = [call.time for call in harness.transport.calls]
    assert second - first == pytest.approx(6.06)


@pytest.mark.parametrize("requests_per_minute, interval", [(60, 1.0), (10, 6.0), (120, 0.5)])
def test_requests_are_evenly_spaced_and_pacing_is_not_waiting(harness, requests_per_minute, interval):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, body={})
    client = harness.client(requests_per_minute=requests_per_minute)
    for _attempt in range(4):
        client.get_account()
    times = [call.time for call in harness.transport.calls]
    assert times[0] == 1700000000.0  # the first request is not delayed
    assert [later - earlier for earlier, later in zip(times, times[1:])] == [interval] * 3
    assert client.metrics == dict(requests=4, throttled=0, retries=0, waited_seconds=0.0)


def test_two_clients_of_the_same_account_share_the_pace(harness, tmp_path):
    harness.expect("POST", ACCOUNT, body={})
    harness.expect("POST", ACCOUNT, body={})
    harness.expect("POST", ACCOUNT, body={})
    first = harness.client(requests_per_minute=10)
    second = harness.client(requests_per_minute=10)
    first.get_account()
    second.get_account()  # a second process: its first request waits for the first one's
    first.get_account()
    times = [call.time for call in harness.transport.calls]
    assert [later - earlier for earlier, later in zip(times, times[1:])] == [6.0, 6.0]

    pace_files = os.listdir(state_directory())
    assert len(pace_files) == 1
    for name in pace_files:
        for secret in (ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET):
            assert secret not in name
        with open(os.path.join(state_directory(), name), encoding="ascii") as handle:
            assert ACCESS_TOKEN not in handle.read()


def test_clients_of_different_api_urls_do_not_share_the_pace(harness):
    other_transport = FakeTransport(api_url="https://other.example.test", clock=harness.clock)
    harness.expect("POST", ACCOUNT, body={})
    other_transport.expect("POST", ACCOUNT, body={})
    first = harness.client(requests_per_minute=10)
    second = Client(make_config(api_url="https://other.example.test", requests_per_minute=10),
                    transport=other_transport, clock=harness.clock, sleep=harness.clock.sleep)
    first.get_account()
    second.get_account()
    assert harness.clock.sleeps == []
    other_transport.assert_done()


def test_client_id_names_the_shared_pace(harness, tmp_path):
    expect_token(harness)
    harness.expect("POST", ACCOUNT, body={})
    harness.client(**credentials()).get_account()
    names = os.listdir(state_directory())
    assert len(names) == 1
    assert CLIENT_ID not in names[0] and CLIENT_SECRET not in names[0] and FETCHED_TOKEN not in names[0]


def test_injected_pacer_is_used(harness):
    class CountingPacer(object):
        turns = 0

        answers = 0

        def wait_turn(self):
            self.turns += 1
            return 0.0

        def record_answer(self):
            self.answers += 1

        def close(self):
            pass

    pacer = CountingPacer()
    harness.expect("POST", ACCOUNT, body={})
    client = Client(make_config(), transport=harness.transport, clock=harness.clock, sleep=harness.clock.sleep,
                    pacer=pacer)
    client.get_account()
    assert (pacer.turns, pacer.answers) == (1, 1)


class RecordingPacer(object):
    """Records the order of turns and answers, with the time of each."""

    def __init__(self, clock):
        self.clock = clock
        self.events = []

    def wait_turn(self):
        self.events.append(("turn", self.clock.now))
        return 0.0

    def record_answer(self):
        self.events.append(("answer", self.clock.now))

    def close(self):
        pass


def test_every_answer_is_reported_to_the_pacer_success_error_429_and_failure(harness):
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "1"})
    harness.expect("POST", ACCOUNT, status=503)
    harness.expect("POST", ACCOUNT, fail=(TIMEOUT, "read timed out"))
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    harness.expect("POST", GROUPS, status=400, body={"error": "bad"})
    harness.expect("POST", ACTION, fail=(DROPPED, "connection reset"))
    pacer = RecordingPacer(harness.clock)
    client = Client(make_config(), transport=harness.transport, clock=harness.clock, sleep=harness.clock.sleep,
                    pacer=pacer)
    client.backoff_jitter = lambda: 1.0
    client.get_account()
    with pytest.raises(ApiError):
        client.list_groups()
    with pytest.raises(TransportError):
        client.device_action("exempt", ids=["d1"])
    assert [kind for kind, _moment in pacer.events] == ["turn", "answer"] * 6


def test_a_late_answer_holds_back_the_request_a_window_later(harness):
    """600 a minute in a 1 s window: 10 a window. The first answer takes 0.5 s, so the 11th request waits for that
    answer plus the window (1.5 s), not only for its slot (1.4 s)."""
    harness.transport.expect("POST", ACCOUNT, body={}, latency=0.5)
    for _attempt in range(10):
        harness.expect("POST", ACCOUNT, body={})
    client = harness.client(requests_per_minute=600, rate_limit_window=1)
    for _attempt in range(11):
        client.get_account()
    starts = [call.time - harness.transport.calls[0].time for call in harness.transport.calls]
    assert starts[1] == pytest.approx(0.5)  # one request at a time: after the first answer
    assert starts[9] == pytest.approx(1.3)
    assert starts[10] == pytest.approx(1.5)


# ---------------------------------------------------------------------- 429


def throttled_then_ok(harness, headers, count=1):
    for _attempt in range(count):
        harness.expect("POST", ACCOUNT, status=429, headers=headers, body={"error": "too many requests"})
    harness.expect("POST", ACCOUNT, body={"ok": 1})


@pytest.mark.parametrize("headers, wait", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": " 7 "}, 7.0),
    ({"Retry-After": "2.5"}, 2.5),
    ({"X-RateLimit-Reset-Time": "12"}, 12.0),
    ({"x-ratelimit-reset-time": "12"}, 12.0),
    ({"X-RateLimit-Reset-Time": str(1700000000 + 45)}, 45.0),  # an epoch timestamp
    ({"X-RateLimit-Reset-Time": str((1700000000 + 45) * 1000)}, 45.0),  # an epoch in milliseconds
    ({"Retry-After": "9", "X-RateLimit-Reset-Time": "30"}, 9.0),  # Retry-After wins
    ({}, 60.0),  # neither: a full window
    ({"Retry-After": "soon", "X-RateLimit-Reset-Time": "later"}, 60.0),
    ({"Retry-After": "-5"}, 60.0),
    ({"Retry-After": "nan", "X-RateLimit-Reset-Time": "inf"}, 60.0),
    ({"Retry-After": "Mon, 99 Foo 2023 25:61:00 GMT"}, 60.0),
    ({"Retry-After": "soon", "X-RateLimit-Reset-Time": "20"}, 20.0),  # garbage falls through to the next
    ({"Retry-After": "0"}, 1.0),  # never a zero wait: that would spin at the pacing rate
    ({"X-RateLimit-Reset-Time": str(1700000000 - 100)}, 1.0),  # a reset already past
])
def test_429_waits_as_the_headers_say(harness, headers, wait):
    throttled_then_ok(harness, headers)
    client = harness.client()
    assert client.get_account() == {"ok": 1}
    assert harness.clock.sleeps == [wait]  # no pacing gap on top: the wait already covers it
    assert client.metrics == dict(requests=2, throttled=1, retries=1, waited_seconds=wait)


def test_429_retry_after_http_date(harness):
    throttled_then_ok(harness, {"Retry-After": formatdate(1700000000 + 30, usegmt=True)})
    client = harness.client()
    client.get_account()
    assert harness.clock.sleeps == [30.0]
    assert client.metrics["waited_seconds"] == 30.0


def test_429_retry_after_http_date_in_the_past(harness):
    throttled_then_ok(harness, {"Retry-After": formatdate(1700000000 - 30, usegmt=True)})
    harness.client().get_account()
    assert harness.clock.sleeps == [1.0]


def test_429_wait_is_followed_without_extra_pacing(harness):
    throttled_then_ok(harness, {"Retry-After": "0.2"})
    client = harness.client(requests_per_minute=10)
    client.get_account()
    # 1 s (the floor) waited on the 429, then 5 s more of pacing: the gap is still 6 s.
    assert harness.clock.sleeps == [1.0, 5.0]
    assert client.metrics["waited_seconds"] == 1.0


def test_rate_limit_budget_exhausted(harness):
    for _attempt in range(3):
        harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "40"})
    client = harness.client(rate_limit_timeout=100)
    with pytest.raises(RateLimitError) as caught:
        client.get_account()
    message = str(caught.value)
    assert "rate limited" in message and "HTTP 429" in message
    assert "3 answer(s) with HTTP 429" in message
    assert "80.0 s waited" in message
    assert "rate_limit_timeout (100 s)" in message
    assert caught.value.waited_seconds == 80.0
    assert caught.value.to_fail_json()["waited_seconds"] == 80.0
    assert client.metrics == dict(requests=3, throttled=3, retries=2, waited_seconds=80.0)


def test_rate_limit_budget_is_for_the_lifetime_of_the_client(harness):
    throttled_then_ok(harness, {"Retry-After": "40"})
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "40"})
    client = harness.client(rate_limit_timeout=60)
    client.get_account()
    with pytest.raises(RateLimitError, match=r"2 answer\(s\) with HTTP 429"):
        client.get_account()


def test_rate_limit_timeout_zero_never_waits(harness):
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "1"})
    client = harness.client(rate_limit_timeout=0)
    with pytest.raises(RateLimitError, match="rate_limit_timeout is 0") as caught:
        client.get_account()
    assert "HTTP 429" in str(caught.value)
    assert harness.clock.sleeps == []
    assert client.metrics == dict(requests=1, throttled=1, retries=0, waited_seconds=0.0)


def test_rate_limit_timeout_minus_one_waits_without_bound(harness):
    throttled_then_ok(harness, {"Retry-After": "1000"}, count=5)
    client = harness.client(rate_limit_timeout=-1)
    assert client.get_account() == {"ok": 1}
    assert client.metrics == dict(requests=6, throttled=5, retries=5, waited_seconds=5000.0)


def test_action_is_retried_after_429(harness):
    harness.expect("POST", ACTION, status=429, headers={"Retry-After": "3"})
    harness.expect("POST", ACTION, body=[{"id": "d1", "status": 1, "command_id": ""}])
    client = harness.client()
    assert client.device_action("exempt", ids=["d1"]) == [{"id": "d1", "status": 1, "command_id": None}]
    assert client.metrics == dict(requests=2, throttled=1, retries=1, waited_seconds=3.0)


# ---------------------------------------------------------------------- retries


def test_read_retries_5xx_with_exponential_back_off(harness):
    harness.expect("POST", ACCOUNT, status=503)
    harness.expect("POST", ACCOUNT, status=502)
    harness.expect("POST", ACCOUNT, status=504)
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    client = harness.client()
    assert client.get_account() == {"ok": 1}
    assert harness.clock.sleeps == [1.0, 2.0, 4.0]
    assert client.metrics == dict(requests=4, throttled=0, retries=3, waited_seconds=7.0)


def test_read_5xx_retries_exhausted(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, status=500, text="internal error")
    client = harness.client()
    with pytest.raises(ApiError) as caught:
        client.get_account()
    assert caught.value.status == 500
    assert "POST %s failed: HTTP 500" % ACCOUNT in str(caught.value)
    assert "after 3 retries" in str(caught.value)
    assert "may have been applied" not in str(caught.value)
    assert client.metrics == dict(requests=4, throttled=0, retries=3, waited_seconds=7.0)


def test_back_off_is_capped_and_jittered(harness):
    for _attempt in range(3):
        harness.expect("POST", ACCOUNT, status=500)
    harness.expect("POST", ACCOUNT, body={})
    client = harness.client()
    client.retry_base_seconds = 10
    client.retry_cap_seconds = 15
    client.backoff_jitter = lambda: 0.0  # the lowest jitter: half of each delay
    client.get_account()
    assert harness.clock.sleeps == [5.0, 7.5, 7.5]


def test_default_back_off_bounds():
    client = Client(make_config(), transport=FakeTransport())
    assert (client.retry_base_seconds, client.retry_factor, client.retry_cap_seconds, client.max_retries) == (
        1.0, 2.0, 30.0, 3)


@pytest.mark.parametrize("kind", [TIMEOUT, DROPPED, NOT_SENT])
def test_read_retries_transport_failures(harness, kind):
    harness.expect("POST", ACCOUNT, fail=(kind, "something"))
    harness.expect("POST", ACCOUNT, fail=(kind, "something"))
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    client = harness.client()
    assert client.get_account() == {"ok": 1}
    assert client.metrics == dict(requests=3, throttled=0, retries=2, waited_seconds=3.0)


@pytest.mark.parametrize("kind, words", [
    (TIMEOUT, "no answer from tenant.example.test within 30 s"),
    (DROPPED, "was dropped before the answer arrived"),
    (NOT_SENT, "could not connect to tenant.example.test"),
])
def test_read_transport_failures_exhausted(harness, kind, words):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, fail=(kind, "the reason"))
    with pytest.raises(TransportError, match=words) as caught:
        harness.client().get_account()
    assert "after 3 retries" in str(caught.value)
    assert caught.value.details["transport_failure"] == kind


def test_tls_failure_is_never_retried(harness):
    harness.expect("POST", ACCOUNT, fail=(TLS, "certificate verify failed (SSLCertVerificationError)"))
    client = harness.client()
    with pytest.raises(TransportError) as caught:
        client.get_account()
    message = str(caught.value)
    assert "TLS" in message and "validate_certs" in message and "ca_path" in message
    assert "certificate verify failed" in message
    assert client.metrics["requests"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_action_is_never_retried_after_5xx(harness, status):
    harness.expect("POST", ACTION, status=status, text="oops")
    client = harness.client()
    with pytest.raises(ApiError) as caught:
        client.device_action("delete", ids=["d1"])
    assert "may have been applied" in str(caught.value)
    assert "check the devices' state before running it again" in str(caught.value)
    assert caught.value.may_have_been_applied
    assert client.metrics == dict(requests=1, throttled=0, retries=0, waited_seconds=0.0)


@pytest.mark.parametrize("kind", [TIMEOUT, DROPPED])
def test_action_is_never_retried_after_a_timeout_or_a_drop(harness, kind):
    harness.expect("POST", ACTION, fail=(kind, "gone"))
    client = harness.client()
    with pytest.raises(TransportError) as caught:
        client.device_action("delete", ids=["d1"])
    assert "may have been applied" in str(caught.value) and caught.value.may_have_been_applied
    assert caught.value.completed_results == []
    assert client.metrics["requests"] == 1


def test_action_is_retried_after_a_refused_connection(harness):
    harness.expect("POST", ACTION, fail=(NOT_SENT, "Connection refused"))
    harness.expect("POST", ACTION, body=[{"id": "d1", "status": 1}])
    client = harness.client()
    assert client.device_action("delete", ids=["d1"]) == [{"id": "d1", "status": 1, "command_id": None}]
    assert client.metrics == dict(requests=2, throttled=0, retries=1, waited_seconds=1.0)


def test_action_refused_until_retries_run_out_says_nothing_was_applied(harness):
    for _attempt in range(4):
        harness.expect("POST", ACTION, fail=(NOT_SENT, "Connection refused"))
    with pytest.raises(TransportError) as caught:
        harness.client().device_action("delete", ids=["d1"])
    assert "may have been applied" not in str(caught.value) and not caught.value.may_have_been_applied


def test_action_tls_failure(harness):
    harness.expect("POST", ACTION, fail=(TLS, "bad certificate"))
    with pytest.raises(TransportError, match="validate_certs"):
        harness.client().device_action("delete", ids=["d1"])


def test_action_401_is_retried_after_a_refresh(harness):
    harness.expect("POST", ACTION, token=ACCESS_TOKEN, status=401)
    expect_token(harness)
    harness.expect("POST", ACTION, token=FETCHED_TOKEN, body=[{"id": "d1", "status": 1}])
    client = harness.client(**credentials(access_token=ACCESS_TOKEN))
    assert client.device_action("delete", ids=["d1"])[0]["status"] == 1


# ---------------------------------------------------------------------- status mapping and JSON


def test_404_is_not_found(harness):
    harness.expect("POST", ACCOUNT, status=404, text='{"error": "not found"}')
    with pytest.raises(NotFoundError) as caught:
        harness.client().get_account()
    assert caught.value.details["status"] == 404
    assert "HTTP 404" in str(caught.value)


def test_other_status_is_an_api_error_with_method_path_and_status(harness):
    long_body = '{"error": "%s"}' % ("x" * 3000)
    harness.expect("POST", ACCOUNT, status=400, text=long_body)
    with pytest.raises(ApiError) as caught:
        harness.client().get_account()
    error = caught.value
    assert str(error).startswith("POST /o/api/v3.2/account failed: HTTP 400")
    assert "?" not in str(error) and "access_token" not in str(error)
    assert error.status == 400
    assert len(error.body) <= 503 and error.body.endswith("...")
    assert error.to_fail_json()["body"] == error.body
    assert len(str(error)) < 400


def test_redirect_is_an_error_naming_the_target_without_its_query(harness):
    harness.expect("POST", ACCOUNT, status=301, headers={"Location": "https://new.example.test/o/api/v3.2/account?x=1"})
    with pytest.raises(ApiError) as caught:
        harness.client().get_account()
    assert "https://new.example.test/o/api/v3.2/account" in str(caught.value)
    assert "x=1" not in str(caught.value)
    assert "check api_url" in str(caught.value)


def test_malformed_json_on_a_read_is_asked_again_once(harness):
    harness.expect("POST", ACCOUNT, text='{"truncated": ')
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    client = harness.client()
    assert client.get_account() == {"ok": 1}
    assert client.metrics == dict(requests=2, throttled=0, retries=1, waited_seconds=1.0)


def test_error_after_one_retry(harness):
    harness.expect("POST", ACCOUNT, status=500)
    harness.expect("POST", ACCOUNT, status=400)
    with pytest.raises(ApiError, match=r"HTTP 400 \(after 1 retry\)"):
        harness.client().get_account()


def test_malformed_json_twice_is_unexpected(harness):
    harness.expect("POST", ACCOUNT, text="<html>proxy</html>")
    harness.expect("POST", ACCOUNT, text="")
    with pytest.raises(UnexpectedResponseError, match="not valid JSON") as caught:
        harness.client().get_account()
    assert caught.value.details["status"] == 200


def test_malformed_json_on_an_action_is_not_retried(harness):
    harness.expect("POST", ACTION, text="[{")
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().device_action("delete", ids=["d1"])
    assert "may have been applied" in str(caught.value)


def test_metrics_count_everything(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401)  # request 1
    expect_token(harness)  # request 2
    harness.expect("POST", ACCOUNT, status=429)  # request 3, throttled, 60 s
    harness.expect("POST", ACCOUNT, status=500)  # request 4, 1 s back-off
    harness.expect("POST", ACCOUNT, fail=(TIMEOUT, "slow"))  # request 5, 2 s back-off
    harness.expect("POST", ACCOUNT, body={})  # request 6
    client = harness.client(**credentials(access_token=ACCESS_TOKEN))
    client.get_account()
    assert client.metrics == dict(requests=6, throttled=1, retries=4, waited_seconds=63.0)


def test_waited_seconds_is_rounded(harness):
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "1.23456"})
    harness.expect("POST", ACCOUNT, body={})
    client = harness.client()
    client.get_account()
    assert client.metrics["waited_seconds"] == 1.235


def test_log_lines_name_requests_without_query(harness):
    harness.expect("POST", ACCOUNT, body={})
    harness.client().get_account()
    assert any("POST /o/api/v3.2/account -> HTTP 200" in line for line in harness.log_lines)
    assert not any("?" in line or ACCESS_TOKEN in line for line in harness.log_lines)


def test_no_credentials_at_all(harness):
    client = harness.client(access_token=None)
    with pytest.raises(AuthenticationError, match="no credentials"):
        client.get_account()


def test_api_url_is_the_base_of_every_request(harness):
    harness.expect("POST", ACCOUNT, body={})
    harness.client().get_account()
    assert harness.transport.calls[0].url == API_URL + ACCOUNT
