# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options, defined once.

``CONNECTION_OPTIONS`` generates the modules' argument spec (``argument_spec``), both doc fragments
(``doc_fragment``: modules, and plugins with ``env:``) and the environment variables. ``ConnectionConfig``
is what the client takes; ``config_from_params`` builds it from resolved option values and checks them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import math

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, but sanity compiles for it
    from urlparse import urlsplit  # type: ignore


DEFAULT_API_URL = "https://gears.opswat.com"

# name -> spec. ``env`` is the environment variable; ``description`` is the documentation (list of lines).
CONNECTION_OPTIONS = {
    "api_url": dict(
        type="str",
        default=DEFAULT_API_URL,
        env="OPSWAT_API_URL",
        description=[
            "Base URL of the IT Access tenant, without the C(/o/api) path.",
            "Tenants other than the default host use their own host, for example C(https://product.my.us.opswat.com).",
            "The access token travels in the query string, so a plain C(http://) URL to a host other than"
            " loopback draws a warning.",
        ],
    ),
    "access_token": dict(
        type="str",
        no_log=True,
        env="OPSWAT_ACCESS_TOKEN",
        description=[
            "An OAuth access token obtained beforehand.",
            "Either O(access_token), or O(client_id) with O(client_secret), is required.",
            "When both are given, the token is used first and the client credentials fetch a new one if it is"
            " rejected.",
        ],
    ),
    "client_id": dict(
        type="str",
        env="OPSWAT_CLIENT_ID",
        description=["Client key of the OAuth application registered in the IT Access console."],
    ),
    "client_secret": dict(
        type="str",
        no_log=True,
        env="OPSWAT_CLIENT_SECRET",
        description=["Client secret of the OAuth application. Required with O(client_id)."],
    ),
    "validate_certs": dict(
        type="bool",
        default=True,
        env="OPSWAT_VALIDATE_CERTS",
        description=["Whether to verify the TLS certificate of O(api_url)."],
    ),
    "ca_path": dict(
        type="path",
        env="OPSWAT_CA_PATH",
        description=["A PEM file of CA certificates to verify O(api_url) with, instead of the system store."],
    ),
    "timeout": dict(
        type="float",
        default=30,
        env="OPSWAT_TIMEOUT",
        description=["Seconds to wait for each HTTP answer."],
    ),
    "requests_per_minute": dict(
        type="int",
        default=10,
        env="OPSWAT_REQUESTS_PER_MINUTE",
        description=[
            "The request budget of the account. Requests are spaced at least C(60 / requests_per_minute)"
            " seconds apart, with no bursts, and never more arrive in one O(rate_limit_window) than the budget"
            " allows, however late some arrive, so the collection's own traffic never draws a 429.",
            "The pace is shared by every task of the same account on the same machine.",
            "The service allows 10; raise it only for a tenant with a higher limit or for the simulator.",
        ],
    ),
    "rate_limit_window": dict(
        type="float",
        default=60,
        env="OPSWAT_RATE_LIMIT_WINDOW",
        description=[
            "Seconds of the window in which the service counts requests. At most C(requests_per_minute *"
            " rate_limit_window / 60) requests (at least 1) may arrive within one window: a request starts only"
            " when fewer than that many earlier requests were answered within the last window or are still in"
            " flight, so a request that reaches the service late cannot put one request too many into a window.",
            "Leave it at V(60) for the real service. Set it together with O(requests_per_minute) to test against"
            " a simulator whose limit is scaled: V(600) requests a minute and a V(1) second window allow 10"
            " requests a 1-second window.",
        ],
    ),
    "token_cache": dict(
        type="bool",
        default=True,
        env="OPSWAT_TOKEN_CACHE",
        description=[
            "Whether the tasks of the same account on this machine share the access token they fetch with the"
            " client credentials, so that each task does not spend one of the O(requests_per_minute) on a new"
            " token. Without it, a play of five tasks fetches five tokens.",
            "The token is kept, until shortly before it expires, in a file only the user can read, under the"
            " system temp directory (the same private directory as the pace). It is encrypted and authenticated"
            " with keys derived from O(client_secret): without the secret, which can fetch a token anyway, the"
            " file is worth nothing. A cached token the service rejects is discarded and a new one fetched.",
            "Set it to V(false) to fetch a token in every task and write no token to disk. It has no effect with"
            " O(access_token) alone.",
        ],
    ),
    "rate_limit_timeout": dict(
        type="float",
        default=300,
        env="OPSWAT_RATE_LIMIT_TIMEOUT",
        description=[
            "Total seconds a task may wait on 429 answers caused by other clients of the account.",
            "V(0) never waits: the first 429 fails the task. V(-1) waits without bound.",
        ],
    ),
    "max_listing_pages": dict(
        type="int",
        default=10000,
        env="OPSWAT_MAX_LISTING_PAGES",
        description=[
            "The most pages one listing (of devices, or of groups) may request. A listing that has not ended by"
            " then fails, so a service that never signals the end cannot keep a task running for ever.",
            "The default allows 500,000 devices at 50 a page: raise it only for a larger account, or for listings"
            " of fewer devices a page (C(page_size) below 50).",
            "Independently of it, a listing fails at once when a page brings no device it has not listed before,"
            " or when a page of groups repeats an earlier page.",
        ],
    ),
}

LOOPBACK_HOSTS = ("localhost", "::1")
PACE_MARGIN = 1.01


def argument_spec():
    """The connection part of a module's argument spec, with environment fallbacks."""
    from ansible.module_utils.basic import env_fallback

    spec = {}
    for name, option in CONNECTION_OPTIONS.items():
        entry = dict(type=option["type"], fallback=(env_fallback, [option["env"]]))
        if "default" in option:
            entry["default"] = option["default"]
        if option.get("no_log"):
            entry["no_log"] = True
        spec[name] = entry
    return spec


def doc_fragment(with_env):
    """The DOCUMENTATION of a doc fragment; ``with_env`` adds ``env:`` entries, which plugins need.

    JSON is valid YAML, so no YAML library is needed here.
    """
    options = {}
    for name, option in CONNECTION_OPTIONS.items():
        doc = dict(
            description=option["description"] + ["Environment variable: E(%s)." % option["env"]],
            type=option["type"],
        )
        if "default" in option:
            doc["default"] = option["default"]
        if with_env:
            doc["env"] = [dict(name=option["env"])]
        options[name] = doc
    return json.dumps(dict(options=options), indent=2, sort_keys=True)


def is_loopback(host):
    """Whether ``host`` (as ``urlsplit`` gives it, brackets removed) is this machine: no token leaves it."""
    host = (host or "").lower().rstrip(".")
    if host in LOOPBACK_HOSTS:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or bool(mapped is not None and mapped.is_loopback)


class ConnectionConfig(object):
    """Validated connection settings. ``warnings`` holds messages for the user (never secrets)."""

    def __init__(self, api_url=DEFAULT_API_URL, access_token=None, client_id=None, client_secret=None,
                 validate_certs=True, ca_path=None, timeout=30.0, requests_per_minute=10,
                 rate_limit_timeout=300.0, rate_limit_window=60.0, token_cache=True,
                 max_listing_pages=CONNECTION_OPTIONS["max_listing_pages"]["default"]):
        self.api_url = api_url.rstrip("/")
        self.access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = float(timeout)
        self.requests_per_minute = int(requests_per_minute)
        self.rate_limit_timeout = float(rate_limit_timeout)
        self.rate_limit_window = float(rate_limit_window)
        self.token_cache = bool(token_cache)
        self.max_listing_pages = int(max_listing_pages)
        self.pace_margin = PACE_MARGIN
        self.warnings = []

    @property
    def secrets(self):
        """Values that must never appear in any output."""
        return [value for value in (self.access_token, self.client_secret) if value]

    @property
    def min_interval(self):
        """The budget's spacing: 60 / requests_per_minute seconds."""
        return 60.0 / self.requests_per_minute

    @property
    def pace_interval(self):
        """Seconds the pacer keeps between the starts of two requests: an even pace, no bursts.

        ``pace_margin`` (1% by default) above ``min_interval``: the service counts arrivals, and two requests
        sent exactly one budget apart can arrive closer than that when the first travels slower, putting one
        request too many into a fixed window.
        """
        return self.min_interval * self.pace_margin

    @property
    def window_budget(self):
        """Requests the service allows in one ``rate_limit_window``: rpm x window / 60, at least 1.

        The tolerance keeps a product that float arithmetic puts a hair below a whole number (200 x 5.1 / 60)
        from losing a request.
        """
        return max(1, int(math.floor(self.requests_per_minute * self.rate_limit_window / 60.0 + 1e-9)))


def config_from_params(params):
    """Build and check a ``ConnectionConfig`` from resolved option values (module params or plugin options).

    Raises ``InputError`` naming the option at fault.
    """
    values = dict((name, params.get(name)) for name in CONNECTION_OPTIONS)
    for name, option in CONNECTION_OPTIONS.items():
        if values[name] is None and "default" in option:
            values[name] = option["default"]
    for name, option in CONNECTION_OPTIONS.items():
        if option["type"] == "int":
            check_integer(name, values[name])
    for name in ("access_token", "client_id", "client_secret", "api_url", "ca_path"):
        if isinstance(values[name], str) and not values[name].strip():
            values[name] = None

    if not values["api_url"]:
        raise InputError("api_url", "must not be empty")
    parts = urlsplit(values["api_url"])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("api_url", "must be an http:// or https:// URL with a host, got %r" % values["api_url"])
    if parts.query or parts.fragment:
        raise InputError("api_url", "must not carry a query string or fragment")
    if not values["access_token"]:
        if not values["client_id"] and not values["client_secret"]:
            raise InputError(
                "access_token",
                "no credentials: give access_token, or client_id with client_secret"
                " (or set OPSWAT_ACCESS_TOKEN, or OPSWAT_CLIENT_ID with OPSWAT_CLIENT_SECRET)")
    if values["client_id"] and not values["client_secret"]:
        raise InputError("client_secret", "is required with client_id")
    if values["client_secret"] and not values["client_id"]:
        raise InputError("client_id", "is required with client_secret")
    if values["timeout"] <= 0:
        raise InputError("timeout", "must be greater than 0, got %s" % values["timeout"])
    if values["requests_per_minute"] < 1:
        raise InputError("requests_per_minute", "must be at least 1, got %s" % values["requests_per_minute"])
    if not (values["rate_limit_window"] > 0 and math.isfinite(values["rate_limit_window"])):
        raise InputError("rate_limit_window", "must be a positive number of seconds (60 for the real service),"
                         " got %s" % values["rate_limit_window"])
    if values["rate_limit_timeout"] < 0 and values["rate_limit_timeout"] != -1:
        raise InputError("rate_limit_timeout", "must be -1 (no bound), 0 (never wait) or a positive number"
                         " of seconds, got %s" % values["rate_limit_timeout"])

    max_pages = values["max_listing_pages"]
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise InputError("max_listing_pages", "must be an integer, at least 1, got %r" % (max_pages,))

    config = ConnectionConfig(**values)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        config.warnings.append(
            "api_url uses plain http:// to %s: the access token would travel in clear text. Use https://."
            % parts.hostname)
    if not values["validate_certs"] and parts.scheme == "https":
        config.warnings.append("validate_certs is false: the TLS certificate of %s is not verified." % parts.hostname)
    return config
