# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One call with every policy: retries, status mapping, JSON, metrics, messages and redaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import session as session_module
from ansible_collections.opswat.it_access.plugins.module_utils import transport as transport_module
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, AuthenticationError, NotFoundError, OpswatError, RateLimitError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.redact import MASK
from ansible_collections.opswat.it_access.plugins.module_utils.transport import DROPPED, NOT_SENT, TIMEOUT, TLS
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, ACTION, API_URL, CLIENT_ID, CLIENT_SECRET, DEVICES, FETCHED_TOKEN, GROUPS, LICENSE_KEY, TOKEN,
    FakeClock, FakeTransport, Harness, credentials, expect_token, make_config)


# ---------------------------------------------------------------------- construction


def test_exports_and_user_agent():
    assert transport_module.HAS_REQUESTS is True
    assert transport_module.REQUESTS_IMPORT_ERROR is None
    assert session_module.USER_AGENT == "opswat.it_access/%s" % session_module.VERSION


@pytest.mark.parametrize("settings, verify", [
    (dict(), True),
    (dict(validate_certs=False), False),
    (dict(ca_path="/etc/ca.pem"), "/etc/ca.pem"),
    (dict(validate_certs=False, ca_path="/etc/ca.pem"), "/etc/ca.pem"),
])
def test_default_transport_settings(settings, verify):
    client = Client(make_config(timeout=12, **settings))
    try:
        transport = client.session.transport  # pylint: disable=protected-access
        assert transport.verify == verify
        assert transport.timeout == 12.0
        assert transport._session.headers["User-Agent"] == session_module.USER_AGENT  # pylint: disable=protected-access
    finally:
        client.close()


def test_missing_requests_is_reported(monkeypatch):
    monkeypatch.setattr(session_module, "HAS_REQUESTS", False)
    with pytest.raises(TransportError, match="requests is required"):
        Client(make_config())


# ---------------------------------------------------------------------- retries


def test_read_retries_5xx_with_exponential_back_off(harness):
    harness.expect("POST", ACCOUNT, status=503)
    harness.expect("POST", ACCOUNT, status=502)
    harness.expect("POST", ACCOUNT, status=504)
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    client = harness.client()
    assert client.account.get() == {"ok": 1}
    assert harness.clock.sleeps == [1.0, 2.0, 4.0]
    assert client.metrics == dict(requests=4, throttled=0, retries=3, waited_seconds=7.0)


def test_read_5xx_retries_exhausted(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, status=500, text="internal error")
    client = harness.client()
    with pytest.raises(ApiError) as caught:
        client.account.get()
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
    client.session.retry_base_seconds = 10
    client.session.retry_cap_seconds = 15
    client.session.backoff_jitter = lambda: 0.0  # the lowest jitter: half of each delay
    client.account.get()
    assert harness.clock.sleeps == [5.0, 7.5, 7.5]


def test_default_back_off_bounds():
    client = Client(make_config(), transport=FakeTransport())
    assert (client.session.retry_base_seconds, client.session.retry_factor, client.session.retry_cap_seconds, client.session.max_retries) == (
        1.0, 2.0, 30.0, 3)


@pytest.mark.parametrize("kind", [TIMEOUT, DROPPED, NOT_SENT])
def test_read_retries_transport_failures(harness, kind):
    harness.expect("POST", ACCOUNT, fail=(kind, "something"))
    harness.expect("POST", ACCOUNT, fail=(kind, "something"))
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    client = harness.client()
    assert client.account.get() == {"ok": 1}
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
        harness.client().account.get()
    assert "after 3 retries" in str(caught.value)
    assert caught.value.details["transport_failure"] == kind


def test_tls_failure_is_never_retried(harness):
    harness.expect("POST", ACCOUNT, fail=(TLS, "certificate verify failed (SSLCertVerificationError)"))
    client = harness.client()
    with pytest.raises(TransportError) as caught:
        client.account.get()
    message = str(caught.value)
    assert "TLS" in message and "validate_certs" in message and "ca_path" in message
    assert "certificate verify failed" in message
    assert client.metrics["requests"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_action_is_never_retried_after_5xx(harness, status):
    harness.expect("POST", ACTION, status=status, text="oops")
    client = harness.client()
    with pytest.raises(ApiError) as caught:
        client.devices.action("delete", ids=["d1"])
    assert "may have been applied" in str(caught.value)
    assert "check the devices' state before running it again" in str(caught.value)
    assert caught.value.may_have_been_applied
    assert client.metrics == dict(requests=1, throttled=0, retries=0, waited_seconds=0.0)


@pytest.mark.parametrize("kind", [TIMEOUT, DROPPED])
def test_action_is_never_retried_after_a_timeout_or_a_drop(harness, kind):
    harness.expect("POST", ACTION, fail=(kind, "gone"))
    client = harness.client()
    with pytest.raises(TransportError) as caught:
        client.devices.action("delete", ids=["d1"])
    assert "may have been applied" in str(caught.value) and caught.value.may_have_been_applied
    assert caught.value.completed_results == []
    assert client.metrics["requests"] == 1


def test_action_is_retried_after_a_refused_connection(harness):
    harness.expect("POST", ACTION, fail=(NOT_SENT, "Connection refused"))
    harness.expect("POST", ACTION, body=[{"id": "d1", "status": 1}])
    client = harness.client()
    assert client.devices.action("delete", ids=["d1"]) == [{"id": "d1", "status": 1, "command_id": None}]
    assert client.metrics == dict(requests=2, throttled=0, retries=1, waited_seconds=1.0)


def test_action_refused_until_retries_run_out_says_nothing_was_applied(harness):
    for _attempt in range(4):
        harness.expect("POST", ACTION, fail=(NOT_SENT, "Connection refused"))
    with pytest.raises(TransportError) as caught:
        harness.client().devices.action("delete", ids=["d1"])
    assert "may have been applied" not in str(caught.value) and not caught.value.may_have_been_applied


def test_action_tls_failure(harness):
    harness.expect("POST", ACTION, fail=(TLS, "bad certificate"))
    with pytest.raises(TransportError, match="validate_certs"):
        harness.client().devices.action("delete", ids=["d1"])


def test_action_401_is_retried_after_a_refresh(harness):
    harness.expect("POST", ACTION, token=ACCESS_TOKEN, status=401)
    expect_token(harness)
    harness.expect("POST", ACTION, token=FETCHED_TOKEN, body=[{"id": "d1", "status": 1}])
    client = harness.client(**credentials(access_token=ACCESS_TOKEN))
    assert client.devices.action("delete", ids=["d1"])[0]["status"] == 1


# ---------------------------------------------------------------------- status mapping and JSON


def test_404_is_not_found(harness):
    harness.expect("POST", ACCOUNT, status=404, text='{"error": "not found"}')
    with pytest.raises(NotFoundError) as caught:
        harness.client().account.get()
    assert caught.value.details["status"] == 404
    assert "HTTP 404" in str(caught.value)


def test_other_status_is_an_api_error_with_method_path_and_status(harness):
    long_body = '{"error": "%s"}' % ("x" * 3000)
    harness.expect("POST", ACCOUNT, status=400, text=long_body)
    with pytest.raises(ApiError) as caught:
        harness.client().account.get()
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
        harness.client().account.get()
    assert "https://new.example.test/o/api/v3.2/account" in str(caught.value)
    assert "x=1" not in str(caught.value)
    assert "check api_url" in str(caught.value)


def test_malformed_json_on_a_read_is_asked_again_once(harness):
    harness.expect("POST", ACCOUNT, text='{"truncated": ')
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    client = harness.client()
    assert client.account.get() == {"ok": 1}
    assert client.metrics == dict(requests=2, throttled=0, retries=1, waited_seconds=1.0)


def test_error_after_one_retry(harness):
    harness.expect("POST", ACCOUNT, status=500)
    harness.expect("POST", ACCOUNT, status=400)
    with pytest.raises(ApiError, match=r"HTTP 400 \(after 1 retry\)"):
        harness.client().account.get()


def test_malformed_json_twice_is_unexpected(harness):
    harness.expect("POST", ACCOUNT, text="<html>proxy</html>")
    harness.expect("POST", ACCOUNT, text="")
    with pytest.raises(UnexpectedResponseError, match="not valid JSON") as caught:
        harness.client().account.get()
    assert caught.value.details["status"] == 200


def test_malformed_json_on_an_action_is_not_retried(harness):
    harness.expect("POST", ACTION, text="[{")
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().devices.action("delete", ids=["d1"])
    assert "may have been applied" in str(caught.value)


def test_metrics_count_everything(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401)  # request 1
    expect_token(harness)  # request 2
    harness.expect("POST", ACCOUNT, status=429)  # request 3, throttled, 60 s
    harness.expect("POST", ACCOUNT, status=500)  # request 4, 1 s back-off
    harness.expect("POST", ACCOUNT, fail=(TIMEOUT, "slow"))  # request 5, 2 s back-off
    harness.expect("POST", ACCOUNT, body={})  # request 6
    client = harness.client(**credentials(access_token=ACCESS_TOKEN))
    client.account.get()
    assert client.metrics == dict(requests=6, throttled=1, retries=4, waited_seconds=63.0)


def test_waited_seconds_is_rounded(harness):
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "1.23456"})
    harness.expect("POST", ACCOUNT, body={})
    client = harness.client()
    client.account.get()
    assert client.metrics["waited_seconds"] == 1.235


def test_log_lines_name_requests_without_query(harness):
    harness.expect("POST", ACCOUNT, body={})
    harness.client().account.get()
    assert any("POST /o/api/v3.2/account -> HTTP 200" in line for line in harness.log_lines)
    assert not any("?" in line or ACCESS_TOKEN in line for line in harness.log_lines)


def test_api_url_is_the_base_of_every_request(harness):
    harness.expect("POST", ACCOUNT, body={})
    harness.client().account.get()
    assert harness.transport.calls[0].url == API_URL + ACCOUNT


def test_the_default_ceiling_is_beyond_a_large_account():
    harness = Harness()
    # 100,000 devices at 50 a page: 2,000 pages.
    assert harness.client().session.config.max_listing_pages >= 2 * 100000 // 50


# ---------------------------------------------------------------------- messages name the requested path


GATEWAY = API_URL + "/gateway"


@pytest.fixture
def gateway_harness():
    gateway_harness = Harness()
    gateway_harness.transport.api_url = GATEWAY  # the fake strips this prefix: expectations name the API's own paths
    yield gateway_harness
    gateway_harness.transport.assert_done()


def test_a_timeout_names_the_requested_path(gateway_harness):
    for _attempt in range(4):
        gateway_harness.expect("POST", ACCOUNT, fail=(TIMEOUT, "read timed out"))
    with pytest.raises(TransportError) as caught:
        gateway_harness.client(api_url=GATEWAY).account.get()
    assert str(caught.value).startswith("POST /gateway/o/api/v3.2/account: no answer from tenant.example.test")
    assert [line for line in gateway_harness.log_lines if "POST /gateway/o/api/v3.2/account: read timed out" in line]


def test_a_404_names_the_requested_path_and_says_what_to_fix(gateway_harness):
    gateway_harness.expect("POST", ACCOUNT, status=404, body={"error": "not found"})
    with pytest.raises(NotFoundError) as caught:
        gateway_harness.client(api_url=GATEWAY + "/").account.get()
    message = str(caught.value)
    assert message.startswith("POST /gateway/o/api/v3.2/account failed: HTTP 404"), message
    assert message.endswith("api_url has a path (/gateway), and the API's paths start at the host: give api_url"
                            " without it, for example %s" % API_URL), message
    assert ".." not in message


def test_an_unexpected_answer_and_a_rate_limit_name_the_requested_path(gateway_harness):
    gateway_harness.expect("POST", ACCOUNT, body=["not", "an", "object"])
    with pytest.raises(UnexpectedResponseError, match=r"^POST /gateway/o/api/v3\.2/account: unexpected answer"):
        gateway_harness.client(api_url=GATEWAY).account.get()
    gateway_harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "5"})
    with pytest.raises(RateLimitError, match=r"^POST /gateway/o/api/v3\.2/account: rate limited"):
        gateway_harness.client(api_url=GATEWAY, rate_limit_timeout=0).account.get()
    assert [line for line in gateway_harness.log_lines if "POST /gateway/o/api/v3.2/account -> HTTP 200" in line]


def test_without_a_path_a_404_has_no_hint():
    gateway_harness = Harness()
    gateway_harness.expect("POST", ACCOUNT, status=404, body={"error": "not found"})
    with pytest.raises(NotFoundError) as caught:
        gateway_harness.client().account.get()
    assert str(caught.value).startswith("POST /o/api/v3.2/account failed: HTTP 404")
    assert "api_url has a path" not in str(caught.value)
    gateway_harness.transport.assert_done()


# ---------------------------------------------------------------------- no error path shows a secret


SECRETS = (ACCESS_TOKEN, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY)


# An answer that quotes every secret, bare and in the places credentials usually travel.
ECHO = (
    "echo %s %s %s %s; url %s%s?access_token=%s; form client_id=%s&client_secret=%s; Authorization: Bearer %s;"
    ' {"license_key": "%s"}' % (ACCESS_TOKEN, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY, API_URL, ACCOUNT,
                                FETCHED_TOKEN, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY))


def learn_every_secret(harness):
    """Script the exchanges through which the client learns the fetched token and the license key."""
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401, text=ECHO)
    harness.expect("POST", TOKEN, body={"access_token": FETCHED_TOKEN, "expires_in": 43199})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"license_key": LICENSE_KEY})


def api_error(harness):
    harness.expect("POST", ACCOUNT, status=400, text=ECHO)
    return ApiError, lambda client: client.account.get()


def read_5xx_exhausted(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, status=503, text=ECHO)
    return ApiError, lambda client: client.account.get()


def not_found(harness):
    harness.expect("POST", ACCOUNT, status=404, text=ECHO)
    return NotFoundError, lambda client: client.account.get()


def unexpected_shape(harness):
    harness.expect("POST", ACCOUNT, body=[ECHO])
    return UnexpectedResponseError, lambda client: client.account.get()


def malformed_json(harness):
    harness.expect("POST", ACCOUNT, text=ECHO)
    harness.expect("POST", ACCOUNT, text=ECHO)
    return UnexpectedResponseError, lambda client: client.account.get()


def rate_limited(harness):
    harness.expect("POST", ACCOUNT, status=429, text=ECHO, headers={"Retry-After": ECHO})
    harness.expect("POST", ACCOUNT, status=429, text=ECHO, headers={"Retry-After": "1000"})
    return RateLimitError, lambda client: client.account.get()


def tls_failure(harness):
    harness.expect("POST", ACCOUNT, fail=(TLS, "verify failed for %s%s?access_token=%s" % (API_URL, ACCOUNT,
                                                                                           FETCHED_TOKEN)))
    return TransportError, lambda client: client.account.get()


def dropped_action(harness):
    harness.expect("POST", ACTION, fail=(DROPPED, ECHO))
    return TransportError, lambda client: client.devices.action("delete", ids=["d1"])


def timeout_read(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, fail=(TIMEOUT, ECHO))
    return TransportError, lambda client: client.account.get()


def action_500(harness):
    harness.expect("POST", ACTION, status=500, text=ECHO)
    return ApiError, lambda client: client.devices.action("delete", ids=["d1"])


def action_malformed(harness):
    harness.expect("POST", ACTION, text=ECHO)
    return UnexpectedResponseError, lambda client: client.devices.action("delete", ids=["d1"])


def token_rejected_twice(harness):
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    harness.expect("POST", TOKEN, body={"access_token": "another-token-SECRET"})
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    return AuthenticationError, lambda client: client.account.get()


def bad_client_credentials(harness):
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    harness.expect("POST", TOKEN, status=401, text=ECHO)
    return AuthenticationError, lambda client: client.account.get()


def token_answer_without_token(harness):
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    harness.expect("POST", TOKEN, body={"token": FETCHED_TOKEN, "secret": CLIENT_SECRET})
    return UnexpectedResponseError, lambda client: client.account.get()


def listing_loop(harness):
    harness.expect("POST", DEVICES, body={"devices": [{"device_id": "d1"}], "next_token": FETCHED_TOKEN})
    harness.expect("POST", DEVICES, body={"devices": [{"device_id": "d2"}], "next_token": FETCHED_TOKEN})
    return UnexpectedResponseError, lambda client: list(client.devices.list())


SCENARIOS = [api_error, read_5xx_exhausted, not_found, unexpected_shape, malformed_json, rate_limited, tls_failure,
             dropped_action, timeout_read, action_500, action_malformed, token_rejected_twice, bad_client_credentials,
             token_answer_without_token, listing_loop]


def assert_no_secret(text, where):
    for secret in SECRETS + (CLIENT_SECRET, "another-token-SECRET"):
        assert secret not in text, "%s leaks %s: %s" % (where, secret, text)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.__name__ for scenario in SCENARIOS])
def test_no_error_path_shows_a_secret(scenario):
    harness = Harness()
    # The 401 scenarios need the first call to be rejected; the others learn every secret beforehand.
    learns_first = scenario not in (token_rejected_twice, bad_client_credentials, token_answer_without_token)
    if learns_first:
        learn_every_secret(harness)
    expected_class, action = scenario(harness)
    client = harness.client(access_token=ACCESS_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            rate_limit_timeout=100)
    if learns_first:
        assert client.account.get() == {"license_key": LICENSE_KEY}
    with pytest.raises(OpswatError) as caught:
        action(client)
    error = caught.value
    harness.transport.assert_done()

    assert isinstance(error, expected_class)
    assert error.__context__ is None and error.__cause__ is None
    assert_no_secret(str(error), "str(error)")
    assert_no_secret(repr(error.to_fail_json()), "to_fail_json()")
    assert_no_secret(repr(error.args), "error.args")
    assert_no_secret("".join(traceback.format_exception(type(error), error, error.__traceback__)), "traceback")
    assert_no_secret("\n".join(harness.log_lines), "log")
    if learns_first and "body" in error.details and error.details["body"]:
        assert MASK in error.details["body"]


def test_redact_masks_every_known_secret():
    harness = Harness()
    learn_every_secret(harness)
    client = harness.client(access_token=ACCESS_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client.account.get()
    assert_no_secret(client.redact(ECHO), "redact()")
    # The license key is hidden from messages but is not a no_log value: a module may return it on request.
    assert harness.secrets == [FETCHED_TOKEN]


def test_log_lines_are_redacted():
    harness = Harness()
    learn_every_secret(harness)
    harness.expect("POST", ACCOUNT, fail=(TIMEOUT, ECHO))
    harness.expect("POST", ACCOUNT, body={})
    client = harness.client(access_token=ACCESS_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client.account.get()
    client.account.get()
    assert any("retry 1 of 3" in line for line in harness.log_lines)
    assert any("fetched an access token" in line for line in harness.log_lines)
    assert_no_secret("\n".join(harness.log_lines), "log")


class OneAnswer(object):
    """A transport that gives one prepared ``Response`` (bytes, as the requests transport builds it)."""

    def __init__(self, response):
        self.response = response
        self.sent = 0

    def request(self, method, url, params=None, json_body=None, form_body=None):
        self.sent += 1
        return self.response

    def close(self):
        pass


def test_an_invalid_json_answer_is_parsed_once_and_only_its_start_is_redacted_and_shown():
    from ansible_collections.opswat.it_access.plugins.module_utils.errors import UnexpectedResponseError
    from ansible_collections.opswat.it_access.plugins.module_utils.transport import Response

    body = ("<html>%s " % TOKEN).encode("ascii") + b"z" * (2 * 1024 * 1024)
    response = Response(200, {}, content=body)
    transport = OneAnswer(response)
    clock = FakeClock()
    client = Client(make_config(access_token=TOKEN), transport=transport, clock=clock, sleep=clock.sleep)
    with pytest.raises(UnexpectedResponseError, match="not valid JSON") as caught:
        client.devices.action("delete", ids=["d1"])  # a write: not asked again
    assert transport.sent == 1
    excerpt = caught.value.details["body"]
    assert TOKEN not in excerpt and excerpt.startswith("<html>") and len(excerpt) <= 503
    assert response._text is None  # pylint: disable=protected-access  # the 2 MB were never decoded to text


# ---------------------------------------------------------------------------------------------- page-numbered


def _pages(harness, body, shape=None):
    session = harness.client().session
    return [page for _response, page in session.numbered_pages(
        GROUPS, body, "things", shape or (lambda response, data: (data, len(data))))]


def test_numbered_pages_send_the_body_with_page_and_limit_until_a_short_page(harness):
    harness.expect("POST", GROUPS, json_body={"search": "x", "page": 1, "limit": 50}, body=[{"n": n} for n in range(50)])
    harness.expect("POST", GROUPS, json_body={"search": "x", "page": 2, "limit": 50}, body=[{"n": 50}])
    assert [len(page) for page in _pages(harness, {"search": "x"})] == [50, 1]


@pytest.mark.parametrize("end", [dict(status=413, text=""), dict(body=[])])
def test_numbered_pages_end_on_413_or_an_empty_page(harness, end):
    harness.expect("POST", GROUPS, body=[{"n": n} for n in range(50)])
    harness.expect("POST", GROUPS, **end)
    assert [len(page) for page in _pages(harness, {})] == [50] + ([0] if "body" in end else [])


def test_numbered_pages_count_what_the_shape_counts(harness):
    # A page of 30 records and 20 deletions fills the limit: the next page is asked for.
    harness.expect("POST", GROUPS, body={"a": list(range(30)), "b": list(range(20))})
    harness.expect("POST", GROUPS, status=413, text="")

    def shape(_response, data):
        return data, len(data["a"]) + len(data["b"])

    assert len(_pages(harness, {}, shape)) == 1  # and the 413 was asked for (the harness checks every expectation)
