# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection: auth, pacing, 429 handling, retries, pagination, redaction, metrics.

Modules and the inventory plugin call only the public methods of ``Client``; every error they see is an
``OpswatError`` whose message and details are already redacted. See docs/dev/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import math
import random
import time
from datetime import timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    DEVICE_BLOCK_FIELDS, DEVICE_VALUE_FIELDS, MAX_PAGE_SIZE, check_page_size, json_type, misshapen_field, unique_strings)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, AuthenticationError, InputError, NotFoundError, OpswatError, RateLimitError, TransportError,
    UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.pacing import default_pacer
from ansible_collections.opswat.it_access.plugins.module_utils.redact import Redactor
from ansible_collections.opswat.it_access.plugins.module_utils.token_cache import UNKNOWN_LIFETIME_SECONDS, default_token_cache
from ansible_collections.opswat.it_access.plugins.module_utils.transport import (
    DROPPED, HAS_REQUESTS, NOT_SENT, REQUESTS_IMPORT_ERROR, TIMEOUT, TLS, RequestsTransport,
    TransportFailure)

__all__ = ["Client", "HAS_REQUESTS", "REQUESTS_IMPORT_ERROR", "USER_AGENT", "VERSION"]

# The collection version (galaxy.yml); tests/unit/test_galaxy_metadata.py keeps the two equal.
VERSION = "0.1.0"
USER_AGENT = "opswat.it_access/%s" % VERSION

TOKEN_PATH = "/o/oauth/token"
ACCOUNT_PATH = "/o/api/v3.2/account"
# v3.7 is the current cursor version (v3.5 plus host_name from v3.6 and public_ip from v3.7).
DEVICES_PATH = "/o/api/v3.7/devices"
DEVICE_DETAILS_PATH = "/o/api/v3.8/devices/detail"
GROUPS_PATH = "/o/api/v3/groups"
DEVICE_ACTION_PATH = "/o/api/v3.3/devices/action"

RETRIABLE_STATUSES = (500, 502, 503, 504)
BODY_EXCERPT_CHARS = 500
EXCERPT_REDACTION_MARGIN_CHARS = 4096
MESSAGE_EXCERPT_CHARS = 200
TOKEN_REFRESH_MARGIN_SECONDS = 60.0
EPOCH_THRESHOLD = 10 ** 9  # a reset time above this is an epoch timestamp, not a number of seconds
EPOCH_MILLISECONDS_THRESHOLD = 10 ** 12
# A 429 that says "retry now" (0, or a reset time already past by our clock) would otherwise be
# retried at the pacing rate without ever using the rate_limit_timeout budget.
MIN_THROTTLE_WAIT_SECONDS = 1.0

# The fields of a group the collection compares or sends back (group look-ups by name or id).
GROUP_VALUE_FIELDS = ("group_id", "group_name")
# The fields of one device's result of Device Action that are matched to the devices sent.
ACTION_RESULT_VALUE_FIELDS = ("id", "command_id")

ACTION_MAY_HAVE_BEEN_APPLIED = ("The action may have been applied: check the devices' state before running it"
                                " again.")


class Client(object):
    """Talks to one IT Access tenant with one ``ConnectionConfig``.

    ``on_secret(value)`` is called with every secret learnt at run time (fetched or cached access tokens),
    ``log(msg)`` receives redacted debug lines, ``warn(msg)`` redacted warnings for the user (the pace or the token
    cache fell back to this process alone; without ``warn`` they go to ``log``). ``transport``, ``clock``, ``sleep``, ``pacer`` and ``token_cache``
    are injection points for tests. The retry settings below are attributes so tests can shorten them.
    """

    def __init__(self, config, on_secret=None, log=None, transport=None, clock=None, sleep=None, pacer=None,
                 token_cache=None, warn=None):
        self._config = config
        self._on_secret = on_secret
        self._log_sink = log
        self._warn_sink = warn
        self._clock = clock or time.monotonic
        # Retry-After dates and epoch reset times are wall-clock time; a test's fake clock serves for both.
        self._wall_clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._redactor = Redactor(config.secrets)

        self.max_retries = 3
        self.retry_base_seconds = 1.0
        self.retry_factor = 2.0
        self.retry_cap_seconds = 30.0
        self.backoff_jitter = random.random
        self.throttle_window_seconds = 60.0

        self._requests = 0
        self._throttled = 0
        self._retries = 0
        self._waited = 0.0
        self._throttle_waited = 0.0

        self._token = config.access_token
        self._token_refresh_at = None  # None: lifetime unknown, used until the API rejects it
        # Where the token in use came from: "config", "cache" or "fetched".
        self._token_source = "config" if config.access_token else None
        self._cache_rejected = False  # a cached token was rejected: fetch from now on
        self._token_cache = token_cache if token_cache is not None else default_token_cache(config, clock=clock)

        if transport is None:
            if not HAS_REQUESTS:
                raise TransportError("the Python library requests is required on the host that runs this task"
                                     " (pip install requests)")
            transport = RequestsTransport(verify=config.ca_path or config.validate_certs, timeout=config.timeout,
                                          user_agent=USER_AGENT, proxy_url=config.proxy_url)
        self._transport = transport
        if pacer is None:
            pacer = default_pacer(config, clock=clock, sleep=self._sleep, on_fallback=self._warn)
        self._pacer = pacer

    # ------------------------------------------------------------------ public interface

    @property
    def metrics(self):
        return dict(requests=self._requests, throttled=self._throttled, retries=self._retries,
                    waited_seconds=round(self._waited, 3))

    def redact(self, text):
        """``text`` with every secret this client knows, and every credential-shaped value, masked."""
        return self._redactor.redact(text)

    def close(self):
        self._transport.close()
        close_pacer = getattr(self._pacer, "close", None)
        if close_pacer is not None:
            close_pacer()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def get_account(self, score_type="opswat_score"):
        """Account Details (v3.2) as the API returns it."""
        response, account = self._exchange("POST", ACCOUNT_PATH, json_body={"score_type": score_type})
        if not isinstance(account, dict):
            raise self._unexpected("POST", ACCOUNT_PATH, response, "expected a JSON object")
        license_key = account.get("license_key")
        if license_key is not None and not isinstance(license_key, str):
            # The body is not quoted: the redactor does not know a license key in this shape.
            raise UnexpectedResponseError(self.redact(
                "POST %s: unexpected answer: license_key is a JSON %s, expected a string"
                % (self._requested_path(ACCOUNT_PATH), json_type(license_key))), status=response.status)
        if isinstance(license_key, str):
            # Returned to the user only when asked for; never to appear in an error or a log line.
            self._redactor.add(license_key)
        return account

    def iter_devices(self, page_size=MAX_PAGE_SIZE, max_devices=None):
        """Every device (Get Devices v3.7, cursor paging), oldest enrolment first; at most ``max_devices``.

        The arguments are checked now; requests are sent as the iterator is consumed.
        """
        check_page_size(page_size)
        # 0 is allowed here (an empty listing, no request); users' options start at 1 (check_listing_options).
        if max_devices is not None and (isinstance(max_devices, bool) or not isinstance(max_devices, int)
                                        or max_devices < 0):
            raise InputError("max_devices", "must be an integer, 0 or more, got %r" % (max_devices,))
        return self._device_pages(page_size, max_devices)

    def get_device_details(self, ids):
        """Device Details (v3.8) of ``ids`` (device ids or MACs), 50 a request; unknown ids are left out."""
        devices = []
        for batch in _batches(unique_strings("ids", ids), MAX_PAGE_SIZE):
            response, data = self._exchange("POST", DEVICE_DETAILS_PATH, json_body={"ids": batch, "opt": 0},
                                            accept_statuses=(404,))
            if response.status == 404:
                continue  # none of this batch is known
            batch_devices = self._list_of_objects("POST", DEVICE_DETAILS_PATH, response, data, "devices")
            self._check_fields("POST", DEVICE_DETAILS_PATH, response, batch_devices, "devices", DEVICE_VALUE_FIELDS,
                               DEVICE_BLOCK_FIELDS)
            devices.extend(batch_devices)
        return devices

    def list_groups(self):
        """Every group (Get Groups v3), in pages of 50."""
        groups = []
        pages_seen = {}  # digest of a page's groups -> its page number
        page = 1
        while True:
            self._check_page_ceiling(GROUPS_PATH, page - 1, "groups", len(groups))
            response, data = self._exchange("POST", GROUPS_PATH, json_body={"page": page, "limit": MAX_PAGE_SIZE},
                                            accept_statuses=(413,))
            if response.status == 413:
                break  # past the last page
            items = self._list_of_objects("POST", GROUPS_PATH, response, data, "groups")
            self._check_fields("POST", GROUPS_PATH, response, items, "groups", GROUP_VALUE_FIELDS)
            digest = _digest(items)
            if items and digest in pages_seen:
                raise self._unexpected("POST", GROUPS_PATH, response,
                                       "page %d repeats page %d: the listing would loop" % (page, pages_seen[digest]))
            pages_seen[digest] = page
            groups.extend(items)
            if len(items) < MAX_PAGE_SIZE:
                break
            page += 1
        return groups

    def device_action(self, action, ids=None, macs=None, params=None):
        """Apply ``action`` to devices by id or MAC, 50 a request; one ``{id, status, command_id}`` per device.

        Never retried after a 5xx, a timeout or a dropped connection (the action may have been applied).
        An error raised here carries ``completed_results`` (the results of the batches already applied),
        ``failed_batch_ids`` (the batch whose outcome is unknown or failed), ``unsent_ids`` and
        ``may_have_been_applied`` (False when the answer proves the failed batch was not processed: a 401, 429s).
        """
        if not isinstance(action, str) or not action:
            raise InputError("action", "must be a non-empty string, got %r" % (action,))
        if ids is not None and macs is not None:
            raise InputError("ids", "give ids or macs, not both")
        if ids is None and macs is None:
            raise InputError("ids", "give ids or macs")
        if params is not None and not isinstance(params, dict):
            raise InputError("params", "must be a dict, got %s" % type(params).__name__)
        key = "ids" if ids is not None else "macs"
        batches = _batches(unique_strings(key, ids if ids is not None else macs), MAX_PAGE_SIZE)

        results = []
        for index, batch in enumerate(batches):
            body = {"types": action, key: batch}
            if params is not None:
                body["params"] = params
            try:
                response, data = self._exchange("POST", DEVICE_ACTION_PATH, json_body=body, idempotent=False)
                batch_results = self._action_results(response, data)
            except OpswatError as error:
                error.completed_results = list(results)
                error.failed_batch_ids = batch
                error.unsent_ids = [value for later in batches[index + 1:] for value in later]
                raise
            results.extend(batch_results)
        return results

    # ------------------------------------------------------------------ listings and shapes

    def _device_pages(self, page_size, max_devices):
        seen_cursors = set()
        listed = set()  # the identity of every device yielded (_device_identity)
        cursor = None
        yielded = 0
        pages = 0
        while max_devices is None or yielded < max_devices:
            self._check_page_ceiling(DEVICES_PATH, pages, "devices", yielded)
            pages += 1
            limit = page_size if max_devices is None else min(page_size, max_devices - yielded)
            body = {"limit": limit}
            if cursor is not None:
                body["token"] = cursor
            response, data = self._exchange("POST", DEVICES_PATH, json_body=body)
            if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
                raise self._unexpected("POST", DEVICES_PATH, response, "expected a JSON object with a devices list")
            devices = data["devices"]
            for device in devices:
                if not isinstance(device, dict):
                    raise self._unexpected("POST", DEVICES_PATH, response, "a device is not a JSON object")
            self._check_fields("POST", DEVICES_PATH, response, devices, "devices", DEVICE_VALUE_FIELDS,
                               DEVICE_BLOCK_FIELDS)
            new_devices = []
            for device in devices:
                identity = _device_identity(device)
                if identity not in listed:
                    listed.add(identity)
                    new_devices.append(device)
            if devices and not new_devices:
                # A service handing out fresh cursors over the same devices would otherwise be followed until
                # max_listing_pages, at 10 requests a minute.
                raise self._unexpected("POST", DEVICES_PATH, response,
                                       "page %d holds no device that an earlier page did not: the listing would loop"
                                       % pages)
            for device in new_devices:
                yield device
                yielded += 1
                if max_devices is not None and yielded >= max_devices:
                    return
            cursor = data.get("next_token")
            # The documented end signals only: a short page is not the end.
            if not devices or cursor is None or cursor == "":
                return
            if not isinstance(cursor, (str, int)) or isinstance(cursor, bool):
                raise self._unexpected("POST", DEVICES_PATH, response, "next_token is not a string")
            if cursor in seen_cursors:
                raise self._unexpected("POST", DEVICES_PATH, response,
                                       "the API returned a cursor it had already returned: the listing would loop")
            seen_cursors.add(cursor)

    def _check_page_ceiling(self, path, pages, what, listed):
        """Fail before page ``pages`` + 1 when ``pages`` already reached ``max_listing_pages``."""
        ceiling = self._config.max_listing_pages
        if pages >= ceiling:
            raise UnexpectedResponseError(self.redact(
                "POST %s: the listing reached max_listing_pages (%d pages, %d %s) and the API has not signalled its"
                " end; raise max_listing_pages if the account really has more %s"
                % (self._requested_path(path), ceiling, listed, what, what)))

    def _check_fields(self, method, path, response, records, member, fields, block_fields=()):
        """Every one of ``fields`` of each record is a single JSON value: the collection hashes and compares them."""
        for index, record in enumerate(records):
            problem = misshapen_field(record, fields, block_fields)
            if problem is not None:
                field, kind = problem
                raise self._unexpected(method, path, response, "%s[%d].%s is a JSON %s, expected a string"
                                       % (member, index, field, kind))

    def _list_of_objects(self, method, path, response, data, member):
        """A bare JSON list, or the list under ``member`` of an object; every item an object."""
        items = data.get(member) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise self._unexpected(method, path, response, "expected a JSON list, or an object with a %s list" % member)
        for item in items:
            if not isinstance(item, dict):
                raise self._unexpected(method, path, response, "an item of the list is not a JSON object")
        return items

    def _action_results(self, response, data):
        """The v3.1+ list ``[{id, status, command_id}]`` or the v3.0 object ``{id: status}``, as the list form."""
        def unexpected(what):
            return _outcome_unknown(self._unexpected("POST", DEVICE_ACTION_PATH, response,
                                                     "%s. %s" % (what, ACTION_MAY_HAVE_BEEN_APPLIED)))

        results = []
        if isinstance(data, list):
            for index, item in enumerate(data):
                if not isinstance(item, dict) or "id" not in item:
                    raise unexpected("an item of the result list is not an object with an id")
                problem = misshapen_field(item, ACTION_RESULT_VALUE_FIELDS)
                if problem is not None:
                    raise unexpected("results[%d].%s is a JSON %s, expected a string" % ((index,) + problem))
                status = _as_int(item.get("status"))
                if status is None:
                    raise unexpected("the status of a device is not an integer")
                command_id = item.get("command_id")
                results.append(dict(id=item["id"], status=status,
                                    command_id=None if command_id in (None, "") else str(command_id)))
        elif isinstance(data, dict):
            for device_id, value in data.items():
                status = _as_int(value)
                if status is None:
                    raise unexpected("expected a list of results or an object of integer statuses")
                results.append(dict(id=device_id, status=status, command_id=None))
        else:
            raise unexpected("expected a list of results or an object of statuses")
        return results

    # ------------------------------------------------------------------ one API call, with every policy

    def _exchange(self, method, path, json_body=None, form_body=None, authenticated=True, idempotent=True,
                  accept_statuses=()):
        """Send one API call until it has a final answer; returns ``(response, parsed JSON or None)``.

        Handles the access token (and one refresh on 401), 429 waits, and retries of 5xx, failures and
        malformed JSON for idempotent calls. A status in ``accept_statuses`` is returned to the caller.
        """
        refreshed = False
        fault_retries = 0
        malformed_json_retried = False
        requested = self._requested_path(path)
        while True:
            params = {"access_token": self._valid_token()} if authenticated else None
            failure = None
            try:
                response = self._send(method, path, params, json_body, form_body)
            except TransportFailure as error:
                failure = error
            if failure is not None:
                # Nothing was sent (refused) can always be retried; a sent request only when it is a read.
                retriable = failure.kind == NOT_SENT or (idempotent and failure.kind in (TIMEOUT, DROPPED))
                if retriable and fault_retries < self.max_retries:
                    fault_retries += 1
                    self._back_off(fault_retries, "%s %s: %s" % (method, requested, failure.reason))
                    continue
                raise self._transport_error(method, path, failure, idempotent, fault_retries)

            status = response.status
            if status == 429:
                self._wait_for_rate_limit(method, path, response)
                self._retries += 1
                continue
            if status == 401 and authenticated:
                # The token expired or was revoked: replace it, once a call. A rejected cached token does not use
                # up that once (the cache is then left alone by this client), so it costs no more than no cache.
                from_cache = self._token_source == "cache"
                self._reject_token(params["access_token"])
                if (from_cache or not refreshed) and self._has_client_credentials():
                    refreshed = refreshed or not from_cache
                    self._retries += 1
                    self._log("%s %s: the access token was rejected (HTTP 401); replacing it" % (method, requested))
                    continue
                raise AuthenticationError(self.redact(
                    "%s %s: the access token was rejected: expired or invalid (HTTP 401)%s"
                    % (method, requested, "; a freshly fetched token was rejected too" if refreshed else
                       "; give a valid access_token, or client_id and client_secret to fetch one")),
                    status=401)
            if status in RETRIABLE_STATUSES and idempotent and fault_retries < self.max_retries:
                fault_retries += 1
                self._back_off(fault_retries, "%s %s: HTTP %d" % (method, requested, status))
                continue
            if status in accept_statuses:
                return response, None
            if 200 <= status < 300:
                try:
                    return response, json.loads(response.content)
                except ValueError:
                    pass
                # A proxy can cut an answer short: a read may be asked again, once.
                if idempotent and not malformed_json_retried and fault_retries < self.max_retries:
                    malformed_json_retried = True
                    fault_retries += 1
                    self._back_off(fault_retries, "%s %s: the answer is not valid JSON" % (method, requested))
                    continue
                if idempotent:
                    raise self._unexpected(method, path, response, "the answer is not valid JSON")
                raise _outcome_unknown(self._unexpected(method, path, response, "the answer is not valid JSON. "
                                                        + ACTION_MAY_HAVE_BEEN_APPLIED))
            raise self._status_error(method, path, response, idempotent, fault_retries)

    def _send(self, method, path, params, json_body, form_body):
        paced = self._pacer.wait_turn()
        if paced > 0:
            self._log("waited %.3f s to keep the pace (requests_per_minute, rate_limit_window)" % paced)
        self._requests += 1
        try:
            response = self._transport.request(method, self._config.api_url + path, params=params,
                                               json_body=json_body, form_body=form_body)
        finally:
            # Whatever came back (an answer, a 429, a failure), the request reached the service by now, if ever:
            # the pacer's window rule counts from this moment.
            self._pacer.record_answer()
        self._log("%s %s -> HTTP %d" % (method, self._requested_path(path), response.status))
        return response

    def _back_off(self, attempt, what):
        delay = min(self.retry_cap_seconds, self.retry_base_seconds * self.retry_factor ** (attempt - 1))
        # Equal jitter: at least half the delay, so processes retrying together spread out.
        delay = delay / 2.0 + delay / 2.0 * self.backoff_jitter()
        self._log("%s; retry %d of %d in %.3f s" % (what, attempt, self.max_retries, delay))
        self._sleep(delay)
        self._waited += delay
        self._retries += 1

    # ------------------------------------------------------------------ authentication

    def _has_client_credentials(self):
        return bool(self._config.client_id and self._config.client_secret)

    def _valid_token(self):
        if self._token is not None and (self._token_refresh_at is None or self._clock() < self._token_refresh_at):
            return self._token
        if self._has_client_credentials():
            return self._cached_token() or self._fetch_token()
        if self._token is not None:
            return self._token
        raise AuthenticationError("no credentials: give access_token, or client_id with client_secret")

    def _use_token(self, token, source, refresh_in):
        """Make ``token`` the one sent; ``refresh_in``: seconds until it should be replaced (None: when rejected)."""
        self._redactor.add(token)
        if self._on_secret is not None:
            self._on_secret(token)
        self._token = token
        self._token_source = source
        self._token_refresh_at = None if refresh_in is None else self._clock() + refresh_in

    def _cached_token(self):
        """The token another task of the account cached (see token_cache.py), or None."""
        if self._token_cache is None or self._cache_rejected:
            return None
        entry = self._token_cache.load()
        if entry is None:
            return None
        token, expires_at = entry
        self._use_token(token, "cache", expires_at - self._wall_clock())
        self._log("using the access token cached by an earlier task (token_cache)")
        return token

    def _reject_token(self, token):
        """The service refused ``token``: never send it again, nor leave it in the cache for the next task.

        A given token with no client credentials to replace it stays: the error that follows says what to do.
        """
        if self._token_source == "cache":
            self._cache_rejected = True
        if self._token_cache is not None and self._token_source in ("cache", "fetched"):
            self._token_cache.discard(token)
        if self._has_client_credentials():
            self._token = None

    def _fetch_token(self):
        form = {"client_id": self._config.client_id, "client_secret": self._config.client_secret,
                "grant_type": "client_credentials"}
        response, data = self._exchange("POST", TOKEN_PATH, form_body=form, authenticated=False,
                                        accept_statuses=(400, 401))
        if response.status in (400, 401):
            raise AuthenticationError(self.redact(
                "POST %s: the client credentials were rejected (HTTP %d): check client_id and client_secret"
                % (self._requested_path(TOKEN_PATH), response.status)), status=response.status)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            # The body is not quoted: it may hold a token under a name the redactor does not know.
            raise UnexpectedResponseError(self.redact(
                "POST %s: the answer holds no access_token (members: %s)"
                % (self._requested_path(TOKEN_PATH), ", ".join(sorted(data)) if isinstance(data, dict)
                   else type(data).__name__)),
                status=response.status)
        lifetime = _as_seconds(data.get("expires_in"))
        # 60 s early, or at half-life when the lifetime is too short for that margin.
        refresh_in = (max(lifetime - TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2.0)
                      if lifetime is not None and lifetime > 0 else None)
        self._use_token(token, "fetched", refresh_in)
        self._log("fetched an access token (expires_in: %s)" % data.get("expires_in"))
        if self._token_cache is not None:
            shared_for = refresh_in if refresh_in is not None else UNKNOWN_LIFETIME_SECONDS
            if not self._token_cache.store(token, self._wall_clock() + shared_for):
                self._warn("the access token could not be shared with the next tasks of this account (token_cache):"
                           " %s; each task fetches a token of its own"
                           % (getattr(self._token_cache, "store_error", None)
                              or "%s is unusable" % self._token_cache.directory))
        return token

    # ------------------------------------------------------------------ rate limiting

    def _wait_for_rate_limit(self, method, path, response):
        path = self._requested_path(path)
        self._throttled += 1
        wait, source = self._throttle_wait(response)
        budget = self._config.rate_limit_timeout
        unbounded = budget < 0  # -1
        if not unbounded and self._throttle_waited + wait > budget:
            if budget == 0:
                why = "rate_limit_timeout is 0, so a 429 is never waited on"
            else:
                why = "the next wait of %.1f s (%s) would pass rate_limit_timeout (%g s)" % (wait, source, budget)
            raise RateLimitError(self.redact(
                "%s %s: rate limited by the API (HTTP 429): %d answer(s) with HTTP 429 in total, %.1f s waited on them; %s."
                " Another client of the same account may be using its budget: raise rate_limit_timeout, or"
                " lower requests_per_minute" % (method, path, self._throttled, self._throttle_waited, why)),
                waited_seconds=round(self._throttle_waited, 3), throttled=self._throttled)
        self._log("%s %s: rate limited (HTTP 429); waiting %.3f s (%s)" % (method, path, wait, source))
        self._sleep(wait)
        self._throttle_waited += wait
        self._waited += wait

    def _throttle_wait(self, response):
        """Seconds to wait after a 429, and where that number came from."""
        now = self._wall_clock()
        seconds = _retry_after_seconds(response.header("Retry-After"), now)
        source = "Retry-After"
        if seconds is None:
            seconds = _reset_time_seconds(response.header("X-RateLimit-Reset-Time"), now)
            source = "X-RateLimit-Reset-Time"
        if seconds is None:
            seconds = self.throttle_window_seconds
            source = "a full rate-limit window"
        return max(seconds, MIN_THROTTLE_WAIT_SECONDS), source

    # ------------------------------------------------------------------ errors (always redacted)

    def _warn(self, message):
        if self._warn_sink is None:
            self._log(message)
        else:
            self._warn_sink(self.redact("opswat.it_access: %s" % message))

    def _log(self, message):
        if self._log_sink is not None:
            self._log_sink(self.redact("opswat.it_access: %s" % message))

    def _body_excerpt(self, response, limit=BODY_EXCERPT_CHARS):
        # Redacted before it is cut, so that no part of a secret survives at the cut.
        # A prefix only: the body can be megabytes. Longer than the excerpt, so that a secret which starts
        # inside the excerpt lies whole in what is redacted.
        text = self.redact(response.excerpt(limit + EXCERPT_REDACTION_MARGIN_CHARS))
        return text if len(text) <= limit else text[:limit] + "..."

    def _requested_path(self, path):
        """The path as requested: ``path`` under the path of api_url, if it has one. Every message shows this."""
        return urlsplit(self._config.api_url).path.rstrip("/") + path

    def _unexpected(self, method, path, response, what):
        path = self._requested_path(path)
        return UnexpectedResponseError(self.redact("%s %s: unexpected answer: %s" % (method, path, what)),
                                       status=response.status, body=self._body_excerpt(response))

    def _status_error(self, method, path, response, idempotent, fault_retries):
        status = response.status
        body = self._body_excerpt(response)
        reason = " " + response.reason if response.reason else ""
        message = "%s %s failed: HTTP %d%s" % (method, self._requested_path(path), status, reason)
        if 300 <= status < 400:
            location = response.header("Location") or ""
            # Only scheme, host and path: a query string could carry anything.
            location = urlsplit(location)._replace(query="", fragment="").geturl()
            message += " (a redirect to %s): check api_url" % (location or "an unknown place")
        short_body = " ".join(body[:MESSAGE_EXCERPT_CHARS].split())
        if short_body:
            message += ": %s" % short_body
        message += _after_retries(fault_retries)
        outcome_unknown = status >= 500 and not idempotent
        if outcome_unknown:
            message += ". " + ACTION_MAY_HAVE_BEEN_APPLIED
        api_url = urlsplit(self._config.api_url)
        if status == 404 and api_url.path.rstrip("/"):
            message = message.rstrip(".") + (
                ". api_url has a path (%s), and the API's paths start at the host: give api_url without it, for"
                " example %s" % (api_url.path.rstrip("/"), api_url._replace(path="").geturl()))
        if status == 404:
            return NotFoundError(self.redact(message), status=status, body=body)
        error = ApiError(self.redact(message), status=status, body=body)
        return _outcome_unknown(error) if outcome_unknown else error

    def _transport_error(self, method, path, failure, idempotent, fault_retries):
        path = self._requested_path(path)
        parts = urlsplit(self._config.api_url)
        host = parts.hostname or ""
        if parts.port:
            host = "%s:%d" % (host, parts.port)
        if failure.kind == TLS:
            message = ("%s %s: TLS failure talking to %s: %s. Check validate_certs, or give ca_path the CA that"
                       " signed the certificate of api_url" % (method, path, host, failure.reason))
        elif failure.kind == NOT_SENT:
            message = "%s %s: could not connect to %s: %s" % (method, path, host, failure.reason)
        elif failure.kind == TIMEOUT:
            message = "%s %s: no answer from %s within %g s (timeout)" % (method, path, host, self._config.timeout)
        elif failure.kind == DROPPED:
            message = "%s %s: the connection to %s was dropped before the answer arrived: %s" % (
                method, path, host, failure.reason)
        else:
            message = "%s %s: %s" % (method, path, failure.reason)
        message += _after_retries(fault_retries)
        outcome_unknown = not idempotent and failure.sent
        if outcome_unknown:
            message += ". " + ACTION_MAY_HAVE_BEEN_APPLIED
        error = TransportError(self.redact(message), transport_failure=failure.kind)
        return _outcome_unknown(error) if outcome_unknown else error


# ---------------------------------------------------------------------- helpers


def _outcome_unknown(error):
    """``error``, marked as leaving a device action's outcome unknown (its message says so already)."""
    error.may_have_been_applied = True
    return error


def _after_retries(count):
    if not count:
        return ""
    return " (after %d %s)" % (count, "retry" if count == 1 else "retries")


def _digest(value):
    """A short fingerprint of a parsed JSON value, to recognise a page seen before without keeping it."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _device_identity(device):
    """What tells two listed devices apart: the device id, or the whole record when it has none."""
    device_id = device.get("device_id")
    if device_id is None or device_id == "":
        return ("record", _digest(device))
    return ("id", device_id)


def _batches(values, size):
    return [values[start:start + size] for start in range(0, len(values), size)]


def _as_int(value):
    """An integer from an int, an integral float or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _as_seconds(value):
    """A finite, non-negative number of seconds from a number or a numeric string; else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _retry_after_seconds(value, now):
    """``Retry-After``: delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    seconds = _as_seconds(value)
    if seconds is not None:
        return seconds
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000" or no zone: HTTP dates are GMT
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, moment.timestamp() - now)


def _reset_time_seconds(value, now):
    """``X-RateLimit-Reset-Time``: seconds until the reset, or an epoch (above 10^9); None when unreadable."""
    seconds = _as_seconds(str(value).strip()) if value is not None else None
    if seconds is None:
        return None
    if seconds > EPOCH_MILLISECONDS_THRESHOLD:
        seconds /= 1000.0  # an epoch in milliseconds
    if seconds > EPOCH_THRESHOLD:
        return max(0.0, seconds - now)
    return seconds
