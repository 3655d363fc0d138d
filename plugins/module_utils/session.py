# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One API call with every policy: the access token, the pace, 429 waits, retries, redaction and metrics.

``Session.call`` is what every resource client (account.py, devices.py, groups.py) sends its requests through;
the messages of its errors (HTTP statuses, transport failures, unexpected answers) and the shape checks every
resource shares (a list of objects, single-valued fields, the page ceiling of a listing, the paging of
page-numbered and cursor listings) live here too. Every
error raised is an ``OpswatError`` whose message and details are already redacted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import random
import time
from urllib.parse import urlsplit

from ansible_collections.opswat.it_access.plugins.module_utils.auth import Auth
from ansible_collections.opswat.it_access.plugins.module_utils.connection import store_url_password
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, NotFoundError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import ThrottlePolicy
from ansible_collections.opswat.it_access.plugins.module_utils.redis_store import shared_state
from ansible_collections.opswat.it_access.plugins.module_utils.redact import Redactor
from ansible_collections.opswat.it_access.plugins.module_utils.transport import (
    DROPPED, HAS_REQUESTS, NOT_SENT, TIMEOUT, TLS, RequestsTransport, TransportFailure, is_json_type)

# The collection version (galaxy.yml); tests/unit/test_galaxy_metadata.py keeps the two equal.
VERSION = "0.1.0"
USER_AGENT = "opswat.it_access/%s" % VERSION

# The API's maximum for every list and batch: devices a page, ids a Device Details or Device Action request.
MAX_PAGE_SIZE = 50

RETRIABLE_STATUSES = (500, 502, 503, 504)
BODY_EXCERPT_CHARS = 500
EXCERPT_REDACTION_MARGIN_CHARS = 4096
MESSAGE_EXCERPT_CHARS = 200

ACTION_MAY_HAVE_BEEN_APPLIED = ("The action may have been applied: check the devices' state before running it"
                                " again.")

_CONTAINER_TYPES = ("array", "object")


class _Call(object):
    """What one ``Session.call`` has done so far, across the attempts it sends."""

    def __init__(self, method, path, requested, authenticated, idempotent, accept_statuses, raw_answers=False):
        self.method = method
        self.path = path
        self.label = "%s %s" % (method, requested)  # how every message names the request
        self.authenticated = authenticated
        self.idempotent = idempotent
        self.accept_statuses = accept_statuses
        self.raw_answers = raw_answers  # a 2xx answer that is empty or not JSON comes back unparsed
        self.refreshed = False  # a token was replaced after a 401
        self.fault_retries = 0  # retries after 5xx, failures and malformed JSON
        self.malformed_json_retried = False


class Session(object):
    """Talks to one IT Access tenant with one ``ConnectionConfig``.

    ``on_secret(value)`` is called with every secret learnt at run time (fetched or cached access tokens),
    ``log(msg)`` receives redacted debug lines, ``warn(msg)`` redacted warnings for the user (the pace or the token
    cache fell back to this process alone; without ``warn`` they go to ``log``). ``transport``, ``clock``,
    ``sleep``, ``pacer`` and ``token_cache`` are injection points for tests. The retry settings below, and
    ``throttle.window_seconds``, are attributes so tests can shorten them.
    """

    def __init__(self, config, on_secret=None, log=None, transport=None, clock=None, sleep=None, pacer=None,
                 token_cache=None, warn=None):
        self.config = config
        self._on_secret = on_secret
        self._log_sink = log
        self._warn_sink = warn
        clock_now = clock or time.monotonic
        # Retry-After dates, epoch reset times and the cache's expiry are wall-clock time; a test's fake clock
        # serves for both.
        wall_clock = clock or time.time
        self._sleep = sleep or time.sleep
        # What a caller that waits between requests (command results) measures and sleeps with.
        self.clock = clock_now
        self.sleep = self._sleep
        self._redactor = Redactor(config.secrets)

        self.max_retries = 3
        self.retry_base_seconds = 1.0
        self.retry_factor = 2.0
        self.retry_cap_seconds = 30.0
        self.backoff_jitter = random.random

        self._requests = 0
        self._retries = 0
        self._backoff_waited = 0.0

        self.throttle = ThrottlePolicy(config.rate_limit_timeout, clock=wall_clock, sleep=self._sleep, log=self.log,
                                       redact=self.redact)
        if pacer is None or token_cache is None:
            chosen_pacer, chosen_cache = shared_state(config, clock=clock, sleep=self._sleep, warn=self.warn)
            pacer = chosen_pacer if pacer is None else pacer
            token_cache = chosen_cache if token_cache is None else token_cache
        store_password = store_url_password(config.rate_limit_store)
        if store_password:
            self.add_secret(store_password)  # a module's no_log value: the URL is an option shown in its result
        self.auth = Auth(config, self.call, self.add_secret, token_cache=token_cache, clock=clock_now,
                         wall_clock=wall_clock, log=self.log, warn=self.warn, redact=self.redact,
                         requested_path=self.requested_path)
        self.transport = transport if transport is not None else _requests_transport(config)
        self._pacer = pacer

    # ------------------------------------------------------------------ what the client exposes

    @property
    def metrics(self):
        return dict(requests=self._requests, throttled=self.throttle.throttled, retries=self._retries,
                    waited_seconds=round(self._backoff_waited + self.throttle.waited, 3))

    def redact(self, text):
        """``text`` with every secret this session knows, and every credential-shaped value, masked."""
        return self._redactor.redact(text)

    def mask(self, value):
        """Mask ``value`` in every message and log line from now on."""
        self._redactor.add(value)

    def add_secret(self, value):
        """``mask`` it, and hand it to ``on_secret`` (a module's no_log values: never in its result either)."""
        self.mask(value)
        if self._on_secret is not None:
            self._on_secret(value)

    def close(self):
        self.transport.close()
        close_pacer = getattr(self._pacer, "close", None)
        if close_pacer is not None:
            close_pacer()

    def log(self, message):
        if self._log_sink is not None:
            self._log_sink(self.redact("opswat.it_access: %s" % message))

    def warn(self, message):
        if self._warn_sink is None:
            self.log(message)
        else:
            self._warn_sink(self.redact("opswat.it_access: %s" % message))

    # ------------------------------------------------------------------ one API call, with every policy

    def call(self, method, path, json_body=None, form_body=None, authenticated=True, idempotent=True,
             accept_statuses=(), query=None, raw_answers=False, sink=None):
        """Send one API call until it has a final answer; returns ``(response, parsed JSON or None)``.

        Handles the access token (and one refresh on 401), 429 waits, and retries of 5xx, failures and
        malformed JSON for idempotent calls. A status in ``accept_statuses`` is returned to the caller, its
        body unparsed. ``query`` holds the query parameters besides the access token; with ``raw_answers``, a 2xx
        answer that is empty or whose Content-Type is not JSON comes back unparsed (Get Reports: CSV, files), and
        with a ``sink`` (a binary file) such an answer is written there as it arrives (``response.streamed``).
        """
        call = _Call(method, path, self.requested_path(path), authenticated, idempotent, accept_statuses,
                     raw_answers)
        while True:
            token = self.auth.token() if authenticated else None
            params = dict(query or {})
            if authenticated:
                params["access_token"] = token
            failure = None
            try:
                response = self._send(method, path, params or None, json_body, form_body, sink)
            except TransportFailure as error:
                failure = error
            if failure is not None:
                # Handled outside the except block: an error raised there would chain the failure to it.
                self._after_failure(call, failure)
                continue
            answer = self._after_answer(call, response, token)
            if answer is not None:
                return answer

    def _after_failure(self, call, failure):
        """Back off before sending again, or raise: nothing sent can always be retried, a sent request only if a read."""
        retriable = failure.kind == NOT_SENT or (call.idempotent and failure.kind in (TIMEOUT, DROPPED))
        if retriable and call.fault_retries < self.max_retries:
            self._retry(call, failure.reason)
            return
        raise self._transport_error(call, failure)

    def _after_answer(self, call, response, token):
        """``(response, parsed JSON or None)`` for a final answer; None after waiting to send again; else raises."""
        status = response.status
        if status == 429:
            self.throttle.wait(call.label, response)
            self._retries += 1
            return None
        if status == 401 and call.authenticated:
            # The token expired or was revoked: replace it (or raise).
            call.refreshed = self.auth.replace_rejected(token, call.label, call.refreshed)
            self._retries += 1
            return None
        if status in RETRIABLE_STATUSES and call.idempotent and call.fault_retries < self.max_retries:
            self._retry(call, "HTTP %d" % status)
            return None
        if status in call.accept_statuses:
            return response, None
        if 200 <= status < 300:
            return self._parsed(call, response)
        raise self._status_error(call, response)

    def _parsed(self, call, response):
        """The answer's JSON; None after backing off to ask again once (a proxy can cut an answer short)."""
        if call.raw_answers and (not response.content.strip() or not is_json(response)):
            return response, None
        try:
            return response, json.loads(response.content)
        except ValueError:
            pass
        if call.idempotent and not call.malformed_json_retried and call.fault_retries < self.max_retries:
            call.malformed_json_retried = True
            self._retry(call, "the answer is not valid JSON")
            return None
        if call.idempotent:
            raise self.unexpected(call.method, call.path, response, "the answer is not valid JSON")
        raise outcome_unknown(self.unexpected(call.method, call.path, response, "the answer is not valid JSON. "
                                              + ACTION_MAY_HAVE_BEEN_APPLIED))

    def _send(self, method, path, params, json_body, form_body, sink=None):
        paced = self._pacer.wait_turn()
        if paced > 0:
            self.log("waited %.3f s to keep the pace (requests_per_minute, rate_limit_window)" % paced)
        self._requests += 1
        try:
            # Only a call that streams hands the transport a sink (test transports need not know of it).
            streaming = {"sink": sink} if sink is not None else {}
            response = self.transport.request(method, self.config.api_url + path, params=params,
                                              json_body=json_body, form_body=form_body, **streaming)
        finally:
            # Whatever came back (an answer, a 429, a failure), the request reached the service by now, if ever:
            # the pacer's window rule counts from this moment.
            self._pacer.record_answer()
        self.log("%s %s -> HTTP %d" % (method, self.requested_path(path), response.status))
        return response

    def _retry(self, call, what):
        call.fault_retries += 1
        attempt = call.fault_retries
        delay = min(self.retry_cap_seconds, self.retry_base_seconds * self.retry_factor ** (attempt - 1))
        # Equal jitter: at least half the delay, so processes retrying together spread out.
        delay = delay / 2.0 + delay / 2.0 * self.backoff_jitter()
        self.log("%s: %s; retry %d of %d in %.3f s" % (call.label, what, attempt, self.max_retries, delay))
        self._sleep(delay)
        self._backoff_waited += delay
        self._retries += 1

    # ------------------------------------------------------------------ shapes every resource checks

    def list_of_objects(self, method, path, response, data, member):
        """A bare JSON list, or the list under ``member`` of an object; every item an object."""
        items = data.get(member) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise self.unexpected(method, path, response, "expected a JSON list, or an object with a %s list" % member)
        for item in items:
            if not isinstance(item, dict):
                raise self.unexpected(method, path, response, "an item of the list is not a JSON object")
        return items

    def check_fields(self, method, path, response, records, member, fields, block_fields=()):
        """Every one of ``fields`` of each record is a single JSON value: the collection hashes and compares them."""
        for index, record in enumerate(records):
            problem = misshapen_field(record, fields, block_fields)
            if problem is not None:
                field, kind = problem
                raise self.unexpected(method, path, response, "%s[%d].%s is a JSON %s, expected a string"
                                      % (member, index, field, kind))

    def numbered_pages(self, path, body, what, shape, page_size=MAX_PAGE_SIZE):
        """The pages of a page-numbered listing (Get Groups, Status Change): yields ``(response, page)`` from page 1.

        ``shape(response, data)`` checks one answer and returns ``(page, records)``: the page as the caller wants
        it and how many records it holds. Pages of ``page_size`` (the API's maximum of the listing), ``body``
        holding the other fields of every request. The listing ends on 413, on a page with fewer than
        ``page_size`` records (none included: unlike Get Devices' cursor, a short page is the end here), and
        fails when a page repeats an earlier one (the listing would loop) or before a page past
        ``max_listing_pages``.
        """
        pages_seen = {}  # digest of a page -> its page number
        listed = 0
        page = 1
        while True:
            self.check_page_ceiling(path, page - 1, what, listed)
            response, data = self.call("POST", path, json_body=dict(body, page=page, limit=page_size),
                                       accept_statuses=(413,))
            if response.status == 413:
                return
            content, records = shape(response, data)
            fingerprint = digest(content)
            if records and fingerprint in pages_seen:
                raise self.unexpected("POST", path, response, "page %d repeats page %d: the listing would loop"
                                      % (page, pages_seen[fingerprint]))
            pages_seen[fingerprint] = page
            yield response, content
            listed += records
            if records < page_size:
                return
            page += 1

    def cursor_pages(self, path, body, names, shape, identity, page_size, max_records=None):
        """The records of a cursor listing (Get Devices, Get Logs), in the API's order: a generator.

        ``shape(response, data)`` checks one answer and returns its records; ``identity(record)`` tells records
        apart: a record listed before is left out, and a page with none not listed before fails (a service handing
        out fresh cursors over the same records would otherwise be followed until max_listing_pages, at 10 requests
        a minute). ``names`` is ``(one record, several)``, as messages say them. Pages of ``page_size``, a smaller
        last one to stop at ``max_records``, ``body`` holding the other fields of every request; the listing ends
        as ``next_cursor`` says and never asks a page past ``max_listing_pages``.
        """
        cursor = Cursor()
        while max_records is None or cursor.yielded < max_records:
            self.check_page_ceiling(path, cursor.pages, names[1], cursor.yielded)
            cursor.pages += 1
            request = dict(body, limit=page_size if max_records is None else min(page_size, max_records - cursor.yielded))
            if cursor.token is not None:
                request["token"] = cursor.token
            response, data = self.call("POST", path, json_body=request)
            records = shape(response, data)
            for record in self._new_records(path, response, records, names[0], identity, cursor):
                yield record
                cursor.yielded += 1
                if max_records is not None and cursor.yielded >= max_records:
                    return
            if not self.next_cursor(path, response, data, records, cursor):
                return

    def _new_records(self, path, response, records, name, identity, cursor):
        """The records of a page not listed before; an error when a page brings none."""
        new_records = []
        for record in records:
            key = identity(record)
            if key not in cursor.listed:
                cursor.listed.add(key)
                new_records.append(record)
        if records and not new_records:
            raise self.unexpected("POST", path, response, "page %d holds no %s that an earlier page did not: the"
                                                          " listing would loop" % (cursor.pages, name))
        return new_records

    def next_cursor(self, path, response, data, records, cursor):
        """Take a cursor listing's ``next_token`` (Get Devices, Get Logs) into ``cursor``; False at the end.

        The documented end signals only: ``next_token`` missing, null or empty, or a page with no record; a page
        shorter than ``limit`` is not the end. A cursor returned before fails: the listing would loop.
        """
        token = data.get("next_token")
        if not records or token is None or token == "":
            return False
        if not isinstance(token, (str, int)) or isinstance(token, bool):
            raise self.unexpected("POST", path, response, "next_token is not a string")
        if token in cursor.seen_tokens:
            raise self.unexpected("POST", path, response,
                                  "the API returned a cursor it had already returned: the listing would loop")
        cursor.seen_tokens.add(token)
        cursor.token = token
        return True

    def check_page_ceiling(self, path, pages, what, listed):
        """Fail before page ``pages`` + 1 when ``pages`` already reached ``max_listing_pages``."""
        ceiling = self.config.max_listing_pages
        if pages >= ceiling:
            raise UnexpectedResponseError(self.redact(
                "POST %s: the listing reached max_listing_pages (%d pages, %d %s) and the API has not signalled its"
                " end; raise max_listing_pages if the account really has more %s"
                % (self.requested_path(path), ceiling, listed, what, what)))

    # ------------------------------------------------------------------ errors (always redacted)

    def requested_path(self, path):
        """The path as requested: ``path`` under the path of api_url, if it has one. Every message shows this."""
        return urlsplit(self.config.api_url).path.rstrip("/") + path

    def body_excerpt(self, response, limit=BODY_EXCERPT_CHARS):
        # Redacted before it is cut, so that no part of a secret survives at the cut.
        # A prefix only: the body can be megabytes. Longer than the excerpt, so that a secret which starts
        # inside the excerpt lies whole in what is redacted.
        text = self.redact(response.excerpt(limit + EXCERPT_REDACTION_MARGIN_CHARS))
        return text if len(text) <= limit else text[:limit] + "..."

    def unexpected(self, method, path, response, what):
        path = self.requested_path(path)
        return UnexpectedResponseError(self.redact("%s %s: unexpected answer: %s" % (method, path, what)),
                                       status=response.status, body=self.body_excerpt(response))

    def _status_error(self, call, response):
        status = response.status
        body = self.body_excerpt(response)
        reason = " " + response.reason if response.reason else ""
        message = "%s failed: HTTP %d%s" % (call.label, status, reason)
        if 300 <= status < 400:
            message += _redirect_hint(response)
        short_body = " ".join(body[:MESSAGE_EXCERPT_CHARS].split())
        if short_body:
            message += ": %s" % short_body
        message += _after_retries(call.fault_retries)
        outcome_is_unknown = status >= 500 and not call.idempotent
        if outcome_is_unknown:
            message += ". " + ACTION_MAY_HAVE_BEEN_APPLIED
        if status == 404:
            return NotFoundError(self.redact(self._with_api_url_path_hint(message)), status=status, body=body)
        error = ApiError(self.redact(message), status=status, body=body)
        return outcome_unknown(error) if outcome_is_unknown else error

    def _with_api_url_path_hint(self, message):
        """``message`` of a 404, saying that api_url's path is the likely cause when it has one."""
        api_url = urlsplit(self.config.api_url)
        if not api_url.path.rstrip("/"):
            return message
        return message.rstrip(".") + (
            ". api_url has a path (%s), and the API's paths start at the host: give api_url without it, for"
            " example %s" % (api_url.path.rstrip("/"), api_url._replace(path="").geturl()))

    def _transport_error(self, call, failure):
        parts = urlsplit(self.config.api_url)
        host = parts.hostname or ""
        if parts.port:
            host = "%s:%d" % (host, parts.port)
        message = _failure_message(call.label, host, failure, self.config.timeout)
        message += _after_retries(call.fault_retries)
        outcome_is_unknown = not call.idempotent and failure.sent
        if outcome_is_unknown:
            message += ". " + ACTION_MAY_HAVE_BEEN_APPLIED
        error = TransportError(self.redact(message), transport_failure=failure.kind)
        return outcome_unknown(error) if outcome_is_unknown else error


class Cursor(object):
    """Where a cursor listing is: the token to send, those seen, the records listed, pages asked, records yielded."""

    def __init__(self):
        self.token = None
        self.seen_tokens = set()
        self.listed = set()  # the identity of every record yielded
        self.pages = 0
        self.yielded = 0


# ---------------------------------------------------------------------- helpers


def _requests_transport(config):
    if not HAS_REQUESTS:
        raise TransportError("the Python library requests is required on the host that runs this task"
                             " (pip install requests)")
    return RequestsTransport(verify=config.ca_path or config.validate_certs, timeout=config.timeout,
                             user_agent=USER_AGENT, proxy_url=config.proxy_url)


def _failure_message(request, host, failure, timeout):
    """What went wrong with ``request`` ("POST /path"), in the words of its kind of failure."""
    if failure.kind == TLS:
        return ("%s: TLS failure talking to %s: %s. Check validate_certs, or give ca_path the CA that"
                " signed the certificate of api_url" % (request, host, failure.reason))
    if failure.kind == NOT_SENT:
        return "%s: could not connect to %s: %s" % (request, host, failure.reason)
    if failure.kind == TIMEOUT:
        return "%s: no answer from %s within %g s (timeout)" % (request, host, timeout)
    if failure.kind == DROPPED:
        return "%s: the connection to %s was dropped before the answer arrived: %s" % (request, host, failure.reason)
    return "%s: %s" % (request, failure.reason)


def _redirect_hint(response):
    # Only scheme, host and path: a query string could carry anything.
    location = urlsplit(response.header("Location") or "")._replace(query="", fragment="").geturl()
    return " (a redirect to %s): check api_url" % (location or "an unknown place")


def outcome_unknown(error):
    """``error``, marked as leaving a device action's outcome unknown (its message says so already)."""
    error.may_have_been_applied = True
    return error


def _after_retries(count):
    if not count:
        return ""
    return " (after %d %s)" % (count, "retry" if count == 1 else "retries")


def is_json(response):
    """Whether the answer says it is JSON (``application/json``, ``text/json``, ``application/<x>+json``)."""
    return is_json_type(response.header("Content-Type"))


def digest(value):
    """A short fingerprint of a parsed JSON value, to recognise a page seen before without keeping it."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def batches(values, size=MAX_PAGE_SIZE):
    return [values[start:start + size] for start in range(0, len(values), size)]


def misshapen_field(record, fields, block_fields=()):
    """The first of ``fields`` (or of ``block_fields`` in each entry of a block) that holds a JSON array or object
    where one value belongs, as ``(path, "array" or "object")``, for example ``("os_info[0].type", "object")``;
    None when every one is a single value or absent."""
    for name in fields:
        kind = json_type(record.get(name))
        if kind in _CONTAINER_TYPES:
            return name, kind
    for block, name in block_fields:
        value = record.get(block)
        entries = [(block, value)] if isinstance(value, dict) else [
            ("%s[%d]" % (block, index), entry) for index, entry in enumerate(as_list(value))]
        for where, entry in entries:
            kind = json_type(entry.get(name)) if isinstance(entry, dict) else None
            if kind in _CONTAINER_TYPES:
                return "%s.%s" % (where, name), kind
    return None


def json_type(value):
    """The JSON name of a parsed value's type (``string``, ``number``, ``boolean``, ``null``, ``array``, ``object``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else "string"


def as_list(value):
    """The API documents some blocks (``os_info``) as both an object and an array of objects: accept both."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
