# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options: one definition generating the argument spec and the env vars (the doc fragments:
tests/unit/plugins/doc_fragments/test_connection_fragment.py)."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import connection, ratelimit
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError

EXPECTED_ENV = {
    "api_url": "OPSWAT_API_URL", "access_token": "OPSWAT_ACCESS_TOKEN", "client_id": "OPSWAT_CLIENT_ID",
    "client_secret": "OPSWAT_CLIENT_SECRET", "validate_certs": "OPSWAT_VALIDATE_CERTS", "ca_path": "OPSWAT_CA_PATH",
    "timeout": "OPSWAT_TIMEOUT", "requests_per_minute": "OPSWAT_REQUESTS_PER_MINUTE",
    "rate_limit_timeout": "OPSWAT_RATE_LIMIT_TIMEOUT", "rate_limit_window": "OPSWAT_RATE_LIMIT_WINDOW",
    "token_cache": "OPSWAT_TOKEN_CACHE", "max_listing_pages": "OPSWAT_MAX_LISTING_PAGES",
    "proxy_url": "OPSWAT_PROXY_URL", "rate_limit_store": "OPSWAT_RATE_LIMIT_STORE",
    "rate_limit_store_password": "OPSWAT_RATE_LIMIT_STORE_PASSWORD",
    "rate_limit_store_ca_path": "OPSWAT_RATE_LIMIT_STORE_CA_PATH", "rate_limit_key": "OPSWAT_RATE_LIMIT_KEY",
}


def test_argument_spec_has_every_option_with_its_env_fallback_and_no_log():
    spec = connection.argument_spec()
    assert set(spec) == set(EXPECTED_ENV)
    for name, env in EXPECTED_ENV.items():
        assert spec[name]["fallback"][1] == [name, env]
    no_log = [name for name in spec if spec[name].get("no_log")]
    assert no_log == ["access_token", "client_secret", "rate_limit_store_password"]
    assert spec["rate_limit_store"]["default"] == "local"
    assert spec["api_url"]["default"] == "https://gears.opswat.com"
    assert spec["requests_per_minute"]["default"] == 10
    assert spec["rate_limit_timeout"]["default"] == 300
    assert spec["rate_limit_window"] == dict(type="float", default=60, fallback=spec["rate_limit_window"]["fallback"])
    assert spec["timeout"]["default"] == 30
    assert spec["token_cache"] == dict(type="bool", default=True, fallback=spec["token_cache"]["fallback"])


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def config(**params):
    return connection.config_from_params(params)


def test_client_credentials_or_token_are_required():
    with pytest.raises(InputError) as error:
        config()
    assert error.value.option == "access_token"
    assert "OPSWAT_ACCESS_TOKEN" in error.value.message


@pytest.mark.parametrize("params, option", [
    (dict(client_id="id"), "client_secret"),
    (dict(client_secret="secret"), "client_id"),
    (dict(access_token="t", api_url="ftp://example.com"), "api_url"),
    (dict(access_token="t", api_url="gears.opswat.com"), "api_url"),
    (dict(access_token="t", api_url="https://gears.opswat.com/?access_token=x"), "api_url"),
    (dict(access_token="t", timeout=0), "timeout"),
    (dict(access_token="t", requests_per_minute=0), "requests_per_minute"),
    (dict(access_token="t", rate_limit_timeout=-2), "rate_limit_timeout"),
    (dict(access_token="t", rate_limit_window=0), "rate_limit_window"),
    (dict(access_token="t", rate_limit_window=-60), "rate_limit_window"),
    (dict(access_token="t", rate_limit_window=float("nan")), "rate_limit_window"),
    (dict(access_token="t", rate_limit_window=float("inf")), "rate_limit_window"),
    (dict(access_token="t", max_listing_pages=0), "max_listing_pages"),
    (dict(access_token="t", max_listing_pages=-5), "max_listing_pages"),
    (dict(access_token="t", max_listing_pages=True), "max_listing_pages"),
    # ports: out of range, or not a number
    (dict(access_token="t", api_url="https://gears.opswat.com:0"), "api_url"),
    (dict(access_token="t", api_url="https://gears.opswat.com:65536"), "api_url"),
    (dict(access_token="t", api_url="https://gears.opswat.com:99999999"), "api_url"),
    (dict(access_token="t", api_url="https://gears.opswat.com:https"), "api_url"),
    # URLs that urllib3 or Python would otherwise reject with their own errors
    (dict(access_token="t", api_url="https://[::1"), "api_url"),
    (dict(access_token="t", api_url="https://[not-an-address]"), "api_url"),
    (dict(access_token="t", api_url="https://gears opswat.com"), "api_url"),
    (dict(access_token="t", api_url="https://gears..opswat.com"), "api_url"),
    (dict(access_token="t", api_url="https://user:password@gears.opswat.com"), "api_url"),
    # timeouts that are not a finite number of seconds
    (dict(access_token="t", timeout=float("nan")), "timeout"),
    (dict(access_token="t", timeout=float("inf")), "timeout"),
    (dict(access_token="t", timeout=-1), "timeout"),
    (dict(access_token="t", timeout=1e300), "timeout"),
    (dict(access_token="t", rate_limit_timeout=float("nan")), "rate_limit_timeout"),
    (dict(access_token="t", rate_limit_timeout=float("inf")), "rate_limit_timeout"),
    (dict(access_token="t", rate_limit_timeout=float("-inf")), "rate_limit_timeout"),
    # requests_per_minute: non-positive, non-finite, overflowing
    (dict(access_token="t", requests_per_minute=-10), "requests_per_minute"),
    (dict(access_token="t", requests_per_minute=float("nan")), "requests_per_minute"),
    (dict(access_token="t", requests_per_minute=float("inf")), "requests_per_minute"),
    (dict(access_token="t", requests_per_minute=10 ** 400), "requests_per_minute"),
    (dict(access_token="t", requests_per_minute=10 ** 9 + 1), "requests_per_minute"),
    # proxy_url
    (dict(access_token="t", proxy_url="ftp://proxy.example.com"), "proxy_url"),
    (dict(access_token="t", proxy_url="http://proxy.example.com:0"), "proxy_url"),
    (dict(access_token="t", proxy_url="proxy.example.com:3128"), "proxy_url"),
])
def test_bad_connection_values_name_the_option(params, option):
    with pytest.raises(InputError) as error:
        config(**params)
    assert error.value.option == option
    assert error.value.to_fail_json()["msg"].startswith(option + ":")


def test_secret_values_never_appear_in_errors():
    with pytest.raises(InputError) as error:
        config(client_secret="s3cr3t-value")
    assert "s3cr3t-value" not in str(error.value)


def test_defaults_and_pace():
    result = config(access_token="t", requests_per_minute=None, api_url="https://gears.opswat.com/")
    assert result.api_url == "https://gears.opswat.com"
    assert result.requests_per_minute == 10 and ratelimit.min_interval(result) == 6.0
    assert ratelimit.pace_interval(result) == pytest.approx(6.06)  # 1% margin for arrival jitter
    assert result.rate_limit_timeout == 300 and result.timeout == 30
    assert result.rate_limit_window == 60 and ratelimit.window_budget(result) == 10
    assert result.secrets == ["t"] and result.warnings == []
    assert result.max_listing_pages == 10000  # 500,000 devices at 50 a page


def test_empty_strings_count_as_unset():
    result = config(access_token="", client_id="id", client_secret="secret")
    assert result.access_token is None


@pytest.mark.parametrize("url, warns", [
    ("http://gears.example.com", True),
    ("http://127.0.0.1:8080", False),
    ("http://localhost:8080", False),
    ("http://localhost.:8080", False),
    ("http://[::1]:8080", False),
    ("http://[0:0:0:0:0:0:0:1]:8080", False),
    ("http://[::ffff:127.0.0.1]:8080", False),
    ("http://127.10.0.1", False),
    ("http://127.0.0.1.example.com", True),
    ("https://gears.example.com", False),
])
def test_plain_http_to_a_remote_host_warns_that_the_token_travels_in_clear(url, warns):
    result = config(access_token="t", api_url=url)
    assert bool([w for w in result.warnings if "clear text" in w]) == warns


@pytest.mark.parametrize("rpm, window, budget", [
    (10, 60, 10),      # the real service
    (600, 1, 10),      # the bench's simulator: the same limit, 60 times faster
    (2400, 1, 40),
    (600, 60, 600),    # a simulator that keeps the 60 s window and raises the limit
    (600, 0.1, 1),
    (200, 5.1, 17),    # 200 x 5.1 / 60 is a hair below 17 in floating point: still 17
    (10, 1, 1),        # less than one request a window: at least one
    (90, 59.9, 89),    # whole requests only
])
def test_window_budget_from_requests_per_minute_and_window(rpm, window, budget):
    result = config(access_token="t", requests_per_minute=rpm, rate_limit_window=window)
    assert ratelimit.window_budget(result) == budget


def test_bad_window_message_says_what_to_set():
    with pytest.raises(InputError) as error:
        config(access_token="t", rate_limit_window=0)
    assert "positive number of seconds" in error.value.message and "60" in error.value.message


@pytest.mark.parametrize("rpm", [1, 10, 600, 6000, 6000000, 10 ** 9])
def test_high_rates_stay_valid(rpm):
    assert config(access_token="t", requests_per_minute=rpm).requests_per_minute == rpm


@pytest.mark.parametrize("url", [
    "https://gears.opswat.com:443", "https://gears.opswat.com:1", "https://gears.opswat.com:65535",
    "http://[::1]:8080", "http://127.0.0.1:8080/", "https://product.my.us.opswat.com", "https://münchen.example",
    "https://under_score.example.com",
])
def test_valid_urls_pass(url):
    assert config(access_token="t", api_url=url).api_url == url.rstrip("/")


def test_an_error_from_an_environment_variable_names_it():
    with pytest.raises(InputError) as error:
        connection.config_from_params(dict(access_token="t", timeout=float("nan")),
                                      sources={"timeout": "OPSWAT_TIMEOUT"})
    assert error.value.option == "timeout"
    assert error.value.message.startswith("OPSWAT_TIMEOUT (timeout): must be a number of seconds")
    assert str(error.value) == error.value.to_fail_json()["msg"] == error.value.message


def test_an_error_from_the_task_does_not_blame_a_variable():
    with pytest.raises(InputError) as error:
        connection.config_from_params(dict(access_token="t", timeout=float("nan")), sources={"api_url": "OPSWAT_API_URL"})
    assert error.value.message.startswith("timeout: ")


def test_the_fallback_notes_where_a_value_came_from_and_what_it_could_not_read(monkeypatch):
    from ansible.module_utils.errors import AnsibleFallbackNotFound

    record = connection.new_environment_record()
    spec = connection.argument_spec()
    monkeypatch.setenv("OPSWAT_TIMEOUT", "soon")
    monkeypatch.setenv("OPSWAT_API_URL", "https://tenant.example.test")
    monkeypatch.delenv("OPSWAT_CLIENT_ID", raising=False)
    strategy, args = spec["api_url"]["fallback"]
    assert strategy(*args) == "https://tenant.example.test"
    strategy, args = spec["timeout"]["fallback"]
    with pytest.raises(AnsibleFallbackNotFound):  # the default stays; the error comes with the variable's name
        strategy(*args)
    strategy, args = spec["client_id"]["fallback"]
    with pytest.raises(AnsibleFallbackNotFound):
        strategy(*args)
    assert record.sources == {"api_url": "OPSWAT_API_URL", "timeout": "OPSWAT_TIMEOUT"}
    with pytest.raises(InputError) as error:
        connection.config_from_params(dict(access_token="t", timeout=30), sources=record.sources,
                                      unreadable=record.unreadable)
    assert error.value.message.startswith("OPSWAT_TIMEOUT (timeout): cannot be read as float")


@pytest.mark.parametrize("environment, url, proxy_url, warns", [
    ({}, "http://127.0.0.1:8080", None, False),
    ({"HTTP_PROXY": "http://proxy.test:3128"}, "http://127.0.0.1:8080", None, True),
    ({"HTTP_PROXY": "http://proxy.test:3128", "NO_PROXY": "127.0.0.1"}, "http://127.0.0.1:8080", None, False),
    ({}, "http://127.0.0.1:8080", "http://proxy.test:3128", True),
    ({}, "https://gears.example.com", "http://proxy.test:3128", False),  # TLS through the proxy's tunnel
])
def test_plain_http_through_a_proxy_warns_of_clear_text(monkeypatch, environment, url, proxy_url, warns):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = config(access_token="t", api_url=url, proxy_url=proxy_url)
    found = [w for w in result.warnings if "clear text" in w and "proxy.test:3128" in w]
    assert bool(found) == warns
