# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options, defined once.

``CONNECTION_OPTIONS`` generates the modules' argument spec (``argument_spec``), both doc fragments
(``doc_fragment``: modules, and plugins with ``env:``) and the environment variables. ``ConnectionConfig``
is what the client takes; ``config_from_params`` builds it from resolved option values and checks them.

An error in a value that came from an environment variable names the variable: the user did not write it in the
task, so "timeout: must be ..." alone would send them looking in the wrong place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import math
import os
import re
from urllib.parse import urlsplit

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer


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
            "The access token travels in the query string, so a plain C(http://) URL draws a warning unless it"
            " goes directly to loopback (not to another host, nor through a proxy).",
            "The port, if given, must be from 1 to 65535; a user name or password in the URL is refused.",
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
        description=[
            "Seconds one HTTP request may take, from connecting to the last byte of the answer. A request that"
            " takes longer fails as a timeout (a read is retried, a device action is not).",
            "A number of seconds greater than 0, at most 86400.",
        ],
    ),
    "proxy_url": dict(
        type="str",
        env="OPSWAT_PROXY_URL",
        description=[
            "URL of the HTTP proxy every request goes through, for example C(http://proxy.example.com:3128).",
            "Without it, the proxy environment variables apply as for any Python program (C(HTTPS_PROXY),"
            " C(HTTP_PROXY), C(NO_PROXY)). With it, every request goes through this proxy, whatever C(NO_PROXY)"
            " says.",
            "With a plain C(http://) O(api_url), the proxy sees the access token: a warning says so.",
        ],
    ),
    # How the pace works (the spacing, and the window budget that also counts late arrivals): ratelimit.py and
    # docs/rate-limits.md. The token cache's format: auth.py and docs/authentication.md.
    "requests_per_minute": dict(
        type="int",
        default=10,
        env="OPSWAT_REQUESTS_PER_MINUTE",
        description=[
            "The number of requests a minute the service allows the account. The collection paces its requests to"
            " stay within it, so that its own traffic never draws a 429 answer.",
            "The pace is shared by every task of the same account on the same machine.",
            "The service allows 10; raise it only for a tenant with a higher limit or for the simulator.",
            "A whole number from 1 to 1000000000.",
        ],
    ),
    "rate_limit_window": dict(
        type="float",
        default=60,
        env="OPSWAT_RATE_LIMIT_WINDOW",
        description=[
            "Length, in seconds, of the window in which the service counts requests against"
            " O(requests_per_minute).",
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
            " system temp directory. It is encrypted with a key derived from O(client_secret), so the file is of"
            " no use without the secret. A cached token the service rejects is discarded and a new one fetched.",
            "It needs the Python library C(cryptography) on the host that runs the task (a controller has it:"
            " ansible-core depends on it). Without it the cache is off: each task fetches its own token and warns"
            " that it could not share it.",
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
            "V(0) never waits: the first 429 fails the task. V(-1) waits without bound. Otherwise a finite number"
            " of seconds greater than 0.",
        ],
    ),
    # The store shared by many machines: redis_store.py, docs/rate-limits.md and docs/awx.md.
    "rate_limit_store": dict(
        type="str",
        default="local",
        env="OPSWAT_RATE_LIMIT_STORE",
        description=[
            "Where the pace (O(requests_per_minute)) and the cached access token (O(token_cache)) of the account"
            " are shared.",
            "V(local) (the default) shares them between the tasks of this machine, through files of the user's"
            " own under the system temp directory.",
            "A C(redis://host:port/db) or C(rediss://) (TLS) URL shares them, per account, with every machine"
            " that uses the same Redis: AWX or Automation Controller jobs, parallel CI runners, event-driven"
            " jobs. Each request then costs four Redis round trips (a few more when it waits its turn). The pace is reserved atomically in"
            " Redis' own time; when clients of one account set different O(requests_per_minute), the most"
            " conservative is in force for all.",
            "It needs the Python library C(redis) on the host that runs the task (the collection's execution"
            " environment has it); without it, a Redis URL fails the task before any request.",
            "When Redis cannot be reached within 1 second, answers an error, or has not made a reservation within"
            " 2 seconds, the task goes on with V(local) and warns; the next request tries Redis again.",
            "A password may be given in the URL (C(redis://:password@host)) or, better, in"
            " O(rate_limit_store_password); it never appears in a message.",
        ],
    ),
    "rate_limit_store_password": dict(
        type="str",
        no_log=True,
        env="OPSWAT_RATE_LIMIT_STORE_PASSWORD",
        description=[
            "The password of the Redis of O(rate_limit_store) (Redis C(AUTH)). A password in the URL takes"
            " precedence.",
        ],
    ),
    "rate_limit_store_ca_path": dict(
        type="path",
        env="OPSWAT_RATE_LIMIT_STORE_CA_PATH",
        description=[
            "A PEM file of CA certificates to verify a C(rediss://) O(rate_limit_store) with, instead of the"
            " system store.",
        ],
    ),
    "rate_limit_key": dict(
        type="str",
        no_log=False,
        env="OPSWAT_RATE_LIMIT_KEY",
        description=[
            "The name of the account's pace, instead of one derived from O(api_url) and O(client_id) (or the"
            " access token). Give it the same value in every task whose requests count against one limit, for"
            " example two OAuth applications of one account.",
            "Only a hash of it is stored, locally or in O(rate_limit_store).",
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
# Beyond a million requests a second the spacing means nothing; the bound keeps the arithmetic finite.
MAX_REQUESTS_PER_MINUTE = 10 ** 9
# A socket timeout must fit the platform's timer; a day is longer than any one request should take.
MAX_TIMEOUT_SECONDS = 86400.0
_HOST_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$")


class EnvironmentRecord(object):
    """Which connection options of this process came from an environment variable (``sources``: option ->
    variable), and those whose variable could not be read as the option's type (``unreadable``: option -> reason).

    Filled by the modules' fallback (``argument_spec``), which runs once per module process.
    """

    def __init__(self):
        self.sources = {}
        self.unreadable = {}


FROM_ENVIRONMENT = EnvironmentRecord()


def new_environment_record():
    """Start recording afresh (before an ``AnsibleModule`` is built) and return the record the fallback fills."""
    global FROM_ENVIRONMENT  # pylint: disable=global-statement  # one record per module process
    FROM_ENVIRONMENT = EnvironmentRecord()
    return FROM_ENVIRONMENT


def argument_spec():
    """The connection part of a module's argument spec, with environment fallbacks."""
    spec = {}
    for name, option in CONNECTION_OPTIONS.items():
        entry = dict(type=option["type"], fallback=(_environment_fallback, [name, option["env"]]))
        if "default" in option:
            entry["default"] = option["default"]
        if "no_log" in option:
            entry["no_log"] = option["no_log"]  # False: a name that only looks like a secret's (rate_limit_key)
        spec[name] = entry
    return spec


def _environment_fallback(name, variable, spec=None):
    """The modules' fallback to ``variable``: as ``env_fallback``, and it notes in ``FROM_ENVIRONMENT`` where the
    value came from. A value that cannot be read as the option's type is not passed on (AnsibleModule's own message
    would not name the variable): the option keeps its default and ``config_from_params`` reports the variable.
    """
    from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS
    from ansible.module_utils.errors import AnsibleFallbackNotFound

    if variable not in os.environ:
        raise AnsibleFallbackNotFound
    value = os.environ[variable]
    FROM_ENVIRONMENT.sources[name] = variable
    wanted = (spec or CONNECTION_OPTIONS[name])["type"]
    check = wanted if callable(wanted) else DEFAULT_TYPE_VALIDATORS.get(wanted)
    if check is not None:
        try:
            check(value)
        except (TypeError, ValueError) as error:
            FROM_ENVIRONMENT.unreadable[name] = "cannot be read as %s (%s)" % (
                wanted if isinstance(wanted, str) else "the option's type", error)
            raise AnsibleFallbackNotFound
    return value


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
                 rate_limit_timeout=300.0, rate_limit_window=60.0, token_cache=True, proxy_url=None,
                 max_listing_pages=CONNECTION_OPTIONS["max_listing_pages"]["default"], rate_limit_store="local",
                 rate_limit_store_password=None, rate_limit_store_ca_path=None, rate_limit_key=None):
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
        self.proxy_url = proxy_url
        self.rate_limit_store = rate_limit_store or "local"
        self.rate_limit_store_password = rate_limit_store_password
        self.rate_limit_store_ca_path = rate_limit_store_ca_path
        self.rate_limit_key = rate_limit_key
        # How far above 60 / requests_per_minute the pacer spaces requests (ratelimit.pace_interval).
        self.pace_margin = PACE_MARGIN
        self.warnings = []

    @property
    def secrets(self):
        """Values that must never appear in any output."""
        return [value for value in (self.access_token, self.client_secret, self.rate_limit_store_password,
                                    store_url_password(self.rate_limit_store)) if value]


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_url(name, value, schemes):
    """``urlsplit(value)`` of an http(s) URL whose host and port are valid; ``InputError`` naming ``name`` if not."""
    try:
        parts = urlsplit(value)
    except ValueError as error:  # an unclosed [IPv6] bracket
        raise InputError(name, "is not a valid URL (%s), got %r" % (error, value))
    if parts.scheme not in schemes or not parts.hostname:
        raise InputError(name, "must be an %s URL with a host, got %r"
                         % (" or ".join("%s://" % scheme for scheme in schemes), value))
    try:
        port = parts.port  # ValueError for a port that is not a number, or past 65535
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise InputError(name, "the port must be a number from 1 to 65535, got %r" % value)
    if parts.username is not None or parts.password is not None:
        raise InputError(name, "must not hold a user name or password")
    _check_host(name, parts.hostname)
    return parts


def _check_host(name, host):
    """An IPv6 address (with an optional zone) or a host name (IDNA allowed); ``InputError`` naming ``name``."""
    if ":" in host:
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            raise InputError(name, "the host %r is not a valid IPv6 address" % host)
        return
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if not _HOST_NAME_RE.match(ascii_host):
        raise InputError(name, "the host name %r is not valid" % host)


def _check_values(values):
    """Every range check of the connection options, in the order of the options table; raises ``InputError``.

    Returns ``urlsplit`` of api_url.
    """
    for name, option in CONNECTION_OPTIONS.items():
        if option["type"] == "int":
            check_integer(name, values[name])
    parts = _check_api_url(values["api_url"])
    _check_credentials(values)
    _check_timeout(values["timeout"])
    if values["proxy_url"]:
        _check_url("proxy_url", values["proxy_url"], ("http", "https"))
    _check_rate_limits(values)
    _check_rate_limit_store(values)
    if values["max_listing_pages"] < 1:
        raise InputError("max_listing_pages", "must be at least 1, got %r" % (values["max_listing_pages"],))
    return parts


def _check_api_url(api_url):
    if not api_url:
        raise InputError("api_url", "must not be empty")
    parts = _check_url("api_url", api_url, ("http", "https"))
    if parts.query or parts.fragment:
        raise InputError("api_url", "must not carry a query string or fragment")
    return parts


def _check_credentials(values):
    if not values["access_token"] and not values["client_id"] and not values["client_secret"]:
        raise InputError(
            "access_token",
            "no credentials: give access_token, or client_id with client_secret"
            " (or set OPSWAT_ACCESS_TOKEN, or OPSWAT_CLIENT_ID with OPSWAT_CLIENT_SECRET)")
    if values["client_id"] and not values["client_secret"]:
        raise InputError("client_secret", "is required with client_id")
    if values["client_secret"] and not values["client_id"]:
        raise InputError("client_id", "is required with client_secret")


def _check_timeout(timeout):
    if not (_is_number(timeout) and math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT_SECONDS):
        raise InputError("timeout", "must be a number of seconds greater than 0 and at most %d, got %s"
                         % (MAX_TIMEOUT_SECONDS, timeout))


def _check_rate_limits(values):
    """requests_per_minute (an integral float becomes an int), rate_limit_window and rate_limit_timeout."""
    rpm = values["requests_per_minute"]
    if isinstance(rpm, float) and math.isfinite(rpm) and rpm.is_integer():
        rpm = values["requests_per_minute"] = int(rpm)
    if not (_is_number(rpm) and isinstance(rpm, int) and 1 <= rpm <= MAX_REQUESTS_PER_MINUTE):
        raise InputError("requests_per_minute", "must be a whole number, at least 1 and at most %d, got %s"
                         % (MAX_REQUESTS_PER_MINUTE, rpm))
    window = values["rate_limit_window"]
    if not (_is_number(window) and window > 0 and math.isfinite(window)):
        raise InputError("rate_limit_window", "must be a positive number of seconds (60 for the real service),"
                         " got %s" % window)
    budget = values["rate_limit_timeout"]
    if not (_is_number(budget) and math.isfinite(budget) and (budget >= 0 or budget == -1)):
        raise InputError("rate_limit_timeout", "must be -1 (no bound), 0 (never wait) or a finite positive number"
                         " of seconds, got %s" % budget)


STORE_SCHEMES = ("redis", "rediss")
NO_REDIS = ("is a Redis URL, which needs the Python library redis on the host that runs this task: install it"
            " (pip install redis; the collection's execution environment has it), or set rate_limit_store: local")


def store_url_password(url):
    """The password a Redis URL of ``rate_limit_store`` holds, or None."""
    try:
        parts = urlsplit(url or "")
        return parts.password if parts.scheme in STORE_SCHEMES else None
    except ValueError:
        return None


def _store_for_messages(url):
    """``url`` with its password masked: a message may quote the URL, never the password."""
    password = store_url_password(url)
    return url.replace(":%s@" % password, ":********@") if password else url


def _check_rate_limit_store(values):
    """``local``, or a redis:// or rediss:// URL with a host, a valid port and a database number, and the redis
    library installed (a configuration error before any request: only a Redis unreachable at run time falls back)."""
    url = values["rate_limit_store"]
    if url in (None, "local"):
        return
    shown = _store_for_messages(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InputError("rate_limit_store", "is not a valid URL, got %r" % shown) from None
    try:
        port = parts.port  # ValueError for a port that is not a number, or past 65535
    except ValueError:
        port = -1
    if parts.scheme not in STORE_SCHEMES or not parts.hostname:
        raise InputError("rate_limit_store", "must be local, or a redis:// or rediss:// URL with a host, got %r"
                         % shown)
    if port is not None and not 1 <= port <= 65535:
        raise InputError("rate_limit_store", "the port must be a number from 1 to 65535, got %r" % shown)
    if parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise InputError("rate_limit_store", "the path must be a database number (redis://host:6379/0), got %r"
                         % shown)
    import importlib.util

    if importlib.util.find_spec("redis") is None:
        raise InputError("rate_limit_store", NO_REDIS)


def _from_environment(error, sources):
    """``error`` (an ``InputError``) with the environment variable its option came from, if it did."""
    variable = sources.get(error.option)
    if not variable:
        return error
    named = InputError(error.option, error.reason, **dict((key, value) for key, value in error.details.items()
                                                          if key != "option"))
    named.message = "%s (%s): %s" % (variable, error.option, error.reason)
    named.args = (named.message,)
    return named


def config_from_params(params, sources=None, unreadable=None):
    """Build and check a ``ConnectionConfig`` from resolved option values (module params or plugin options).

    ``sources`` maps the options whose value came from an environment variable to that variable, and
    ``unreadable`` the options whose variable could not be read to the reason (see ``EnvironmentRecord``).
    Raises ``InputError`` naming the option at fault (and its variable).
    """
    values = _resolved_values(params)
    try:
        for name in CONNECTION_OPTIONS:
            if name in (unreadable or {}):
                raise InputError(name, unreadable[name])
        parts = _check_values(values)
    except InputError as error:
        raise _from_environment(error, sources or {}) from None

    config = ConnectionConfig(**values)
    config.warnings.extend(_connection_warnings(values, parts))
    return config


def _resolved_values(params):
    """Every connection option's value from ``params``: the default when unset, None for a blank string."""
    values = dict((name, params.get(name)) for name in CONNECTION_OPTIONS)
    for name, option in CONNECTION_OPTIONS.items():
        if values[name] is None and "default" in option:
            values[name] = option["default"]
    for name in ("access_token", "client_id", "client_secret", "api_url", "ca_path", "proxy_url", "rate_limit_store",
                 "rate_limit_store_password", "rate_limit_store_ca_path", "rate_limit_key"):
        if isinstance(values[name], str) and not values[name].strip():
            values[name] = None
    return values


def _connection_warnings(values, parts):
    """What the user is warned of: a token that would travel in clear text, certificates not verified."""
    warnings = []
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        warnings.append(
            "api_url uses plain http:// to %s: the access token would travel in clear text. Use https://."
            % parts.hostname)
    elif parts.scheme == "http":
        # Imported here: tools/generate_doc_fragment.py loads this file with errors.py alone.
        from ansible_collections.opswat.it_access.plugins.module_utils.transport import proxy_for

        proxy = proxy_for(values["api_url"], values["proxy_url"])
        if proxy:
            warnings.append(
                "api_url uses plain http:// through the proxy %s (%s): the access token would travel in clear"
                " text through it. Use https://, or set NO_PROXY to reach %s directly."
                % (proxy, "proxy_url" if values["proxy_url"] else "from the environment", parts.hostname))
    if not values["validate_certs"] and parts.scheme == "https":
        warnings.append("validate_certs is false: the TLS certificate of %s is not verified." % parts.hostname)
    return warnings
