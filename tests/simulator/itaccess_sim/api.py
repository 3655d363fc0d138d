# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The API itself: routes, OAuth tokens, validation and the answers of each endpoint.

``Service.handle`` takes one parsed request and returns what to send. The order of checks is fixed:
route (404) -> injected drop / 429 -> rate limit (429) -> other injected faults -> access token (401)
-> HTTP method (405) -> media type (415) -> JSON and JSON Schema (400) -> endpoint rules (400, 404, 406,
413) -> answer. A request refused before the endpoint rules changes no state.
"""

import collections
import dataclasses
import datetime
import hmac
import json
import math
import threading
import time
import urllib.parse
import uuid

from . import schemas
from .fleet import ACTION_TYPES_BY_VERSION, SEVERITIES_BY_SCORE_TYPE, UNMONITORED_STATUSES, iso, severity_of
from .reports import RawAnswer, Reports

Route = collections.namedtuple("Route", "endpoint version methods schema")


def _routes():
    routes = {
        "/o/oauth/token": Route("token", None, ("GET", "POST"), None),
        "/o/api/v3/account": Route("account", (3, 0), ("GET",), None),
        "/o/api/v3.2/account": Route("account", (3, 2), ("POST",), "account.request.json"),
        "/o/api/v3/groups": Route("groups", (3, 0), ("POST",), "groups.request.json"),
        "/o/api/v3/devices/action": Route("action", (3, 0), ("POST",), "action.request.json"),
        "/o/api/v3/devices/status_changed": Route("status_changed", (3, 0), ("POST",), "status_changed.request.json"),
        "/o/api/v3.1/cves": Route("cves", (3, 1), ("POST",), "cves.request.json"),
        "/o/api/v3.1/get_cves": Route("device_cves", (3, 1), ("POST",), "get_cves.request.json"),
        "/o/api/v3.2/get_cves": Route("device_cves", (3, 2), ("POST",), "get_cves.request.json"),
        "/o/api/v3/get_threats": Route("threats", (3, 0), ("POST",), "get_threats.request.json"),
        "/o/api/v3.3/logs": Route("logs", (3, 3), ("POST",), "logs.request.json"),
        "/o/api/v3.1/get_reports": Route("reports", (3, 1), ("GET",), "get_reports.request.json"),
    }
    for minor in (5, 6, 7):
        routes[f"/o/api/v3.{minor}/devices"] = Route("devices", (3, minor), ("POST",), "devices.request.json")
    for minor in range(2, 9):
        routes[f"/o/api/v3.{minor}/devices/detail"] = Route("detail", (3, minor), ("POST",), "detail.request.json")
    for minor in (1, 2, 3):
        routes[f"/o/api/v3.{minor}/devices/action"] = Route("action", (3, minor), ("POST",), "action.request.json")
    return routes


ROUTES = _routes()

END_SIGNALS = ("missing", "null", "empty_string", "empty_page")
DETAIL_SHAPES = ("list", "object")
GROUPS_PAST_END = ("413", "empty")
DETAIL_ISSUE_KEYS = ("detail", "list", "both")
# Status Change's answer: the envelope the PHP client reads (default), a bare list of records, or the envelope
# without one of its keys; deleted devices as {"device_id": ...} objects or bare id strings; all of them on
# page 1 (default) or paged alongside the monitored devices.
STATUS_CHANGED_SHAPES = ("envelope", "list", "no_deleted", "no_monitored")
DELETED_FORMATS = ("objects", "ids")
DELETED_PAGING = ("first_page", "spread")
# Status Change spells three statuses (docs/dev/api-notes.md, Status Change); the others are mapped as the
# vendor plausibly would: a quarantined device is not compliant, one not yet judged (installed, pending) is
# not compliant and marked pending, one without a monitoring agent is "unknown" as in Account Details.
STATUS_CHANGE_SPELLING = {"compliant": "compliant", "non_compliant": "non-compliant", "exempted": "exempted",
                          "quarantined": "non-compliant", "installed": "non-compliant", "pending": "non-compliant"}
STATUS_CHANGE_SPELLING.update(dict.fromkeys(UNMONITORED_STATUSES, "unknown"))

_LIST_FIELDS = ("device_id", "severity", "status", "device_name", "nickname", "device_type", "last_seen", "agent_version",
                "remediation_link", "group_name", "geo_info", "network_info", "os_info", "link_user", "user_info", "issue",
                "last_reboot", "cves", "enrolled_at", "in_grace_period")
_GROUP_SORT_KEYS = {"group_name": "group_name", "domain_name": "domain_name", "policy_name": "policy_name",
                    "number_of_devices": "number_of_devices", "last_update": "last_modified"}
_JSON = "application/json"
# Bodies larger than this are refused outright; the real API's limit is unknown, every valid body is tiny.
MAX_BODY = 1024 * 1024


class Reply(Exception):
    """An answer decided early (an error, usually): raised from deep inside, turned into the response."""

    def __init__(self, status, payload, headers=None):
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = headers or {}


@dataclasses.dataclass
class Outcome:
    """What the HTTP layer must do: send ``status`` with ``headers`` and ``body``, or drop the connection."""

    status: object
    body: bytes = b""
    headers: dict = dataclasses.field(default_factory=dict)
    drop: bool = False


class ApiRequest:  # pylint: disable=too-many-instance-attributes,too-few-public-methods
    """One HTTP request, parsed once: query, media type, and the body as JSON or as a form."""

    def __init__(self, method, target, headers, body):
        split = urllib.parse.urlsplit(target)
        self.method = method
        self.path = split.path
        self.query = {key: values[0] for key, values in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        self.headers = headers
        self.body = body
        self.media_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.json = None
        self.json_ok = False
        self.form = {}
        self.text = None
        if body:
            try:
                self.text = body.decode("utf-8")
                self.json = json.loads(self.text)
                self.json_ok = True
            except ValueError:
                self.json = None
            if self.media_type == "application/x-www-form-urlencoded" and self.text is not None:
                self.form = {key: values[0] for key, values in urllib.parse.parse_qs(self.text, keep_blank_values=True).items()}

    def bearer(self):
        """The token of an ``Authorization: Bearer`` header, or None."""
        value = self.headers.get("Authorization") or ""
        scheme, _sep, token = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None


class TokenStore:
    """Issued access tokens and their expiry (monotonic clock)."""

    def __init__(self, lifetime, preset=None):
        self._lock = threading.Lock()
        self._tokens = {}
        self.lifetime = lifetime
        if preset:
            # A preset token never expires by itself; expire_tokens() and the expire_token fault still expire it.
            self._tokens[preset] = float("inf")

    def issue(self):
        """A new token valid for ``lifetime`` seconds."""
        token = str(uuid.uuid4())
        with self._lock:
            self._tokens[token] = time.monotonic() + self.lifetime
        return token

    def state(self, token):
        """'valid', 'expired' or 'unknown'."""
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return "unknown"
        return "valid" if time.monotonic() < expiry else "expired"

    def all(self):
        """Every token issued so far, and the preset one."""
        with self._lock:
            return list(self._tokens)

    def known(self, token):
        """Whether the simulator ever issued (or was preset with) this token."""
        with self._lock:
            return token in self._tokens

    def expire(self, token=None):
        """Expire one token, or every token issued so far when ``token`` is None."""
        with self._lock:
            for key in ([token] if token is not None else list(self._tokens)):
                if key in self._tokens:
                    self._tokens[key] = float("-inf")


def _json_body(payload):
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Service:  # pylint: disable=too-many-instance-attributes
    """Answers API requests against one fleet; thread safe (one lock around state)."""

    def __init__(self, config, fleet, tokens, limiter, faults, log, scrubber):
        # pylint: disable=too-many-arguments,too-many-positional-arguments
        self.config = config
        self.fleet = fleet
        self.tokens = tokens
        self.limiter = limiter
        self.faults = faults
        self.log = log
        self.scrubber = scrubber
        # One lock for the whole state, shared with the fleet so that tests reading it see no half-done request.
        self.lock = fleet.lock
        self.reports = Reports(fleet, config)

    # --------------------------------------------------------------------------------------- pipeline

    def handle(self, request):
        """Process one request to a non-control path and record it in the log."""
        started = time.monotonic()
        # The log records when the request arrived, so that a client's pacing can be checked from it.
        received = _now_iso()
        route = ROUTES.get(request.path)
        fault = None
        try:
            if route is None:
                outcome = self._answer(404, {"error": "Not Found"})
            else:
                outcome, fault = self._handle_route(route, request)
        except Exception:  # pylint: disable=broad-except
            # Any bug of the simulator becomes the API's documented 500, never a hung or dropped connection.
            outcome = self._answer(500, {"error": "Internal Server Error"})
        self._log(request, route, outcome, fault, (received, started))
        return outcome

    def _handle_route(self, route, request):
        if self.config.latency:
            time.sleep(self.config.latency)
        endpoint = route.endpoint
        with self.lock:
            fault = self.faults.peek(endpoint)
            if fault is not None and (fault.kind == "rate_limit" or (fault.kind == "drop" and not fault.options["after_apply"])):
                self.faults.take(fault)
                if fault.kind == "drop":
                    return Outcome(None, drop=True), fault
                decision = self.limiter.refuse(endpoint, fault.options["reset"])
                retry_after = fault.options["retry_after"]
                return self._throttled(decision, self.limiter.retry_after if retry_after is None else retry_after), fault
            decision = self.limiter.hit(endpoint)
            if not decision.allowed:
                # The injected fault waits for a request that gets through.
                return self._throttled(decision, self.limiter.retry_after), None
            if fault is not None:
                self.faults.take(fault)
        headers = dict(decision.headers)
        kind = fault.kind if fault is not None else None
        if kind == "status":
            return self._status_fault(fault, headers), fault
        if kind == "slow" and not fault.options["apply"]:
            time.sleep(fault.options["seconds"])
        try:
            status, payload, extra = self._process(route, request, fault)
        except Reply as reply:
            status, payload, extra = reply.status, reply.payload, reply.headers
        headers.update(extra)
        outcome = self._answer(status, payload, headers)
        if kind == "status_after_apply":
            outcome = self._status_fault(fault, headers)
        elif kind == "drop":
            outcome = Outcome(None, drop=True)
        elif kind == "malformed":
            body = fault.options["body"]
            # Any strict prefix of a JSON object or array is invalid JSON: half the real answer will do.
            outcome.body = body.encode("utf-8") if body is not None else outcome.body[:max(1, len(outcome.body) // 2)]
            outcome.status = 200
        elif kind == "slow":
            time.sleep(fault.options["seconds"])
        return outcome, fault

    def _throttled(self, decision, retry_after):
        headers = dict(decision.headers)
        if retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(decision.wait)))
        return self._answer(429, {"error": "rate limit exceeded"}, headers)

    def _status_fault(self, fault, headers):
        code, body = fault.options["code"], fault.options["body"]
        if isinstance(body, str):
            default_type = "text/html; charset=utf-8" if body.lstrip().startswith("<") else "text/plain; charset=utf-8"
            content_type = fault.options.get("content_type") or default_type
            return Outcome(code, body.encode("utf-8"), dict(headers, **{"Content-Type": content_type}))
        return self._answer(code, body if body is not None else {"error": f"injected HTTP {code}"}, headers)

    @staticmethod
    def _answer(status, payload, headers=None):
        headers = dict(headers or {})
        if isinstance(payload, RawAnswer):
            # Get Reports answers CSV, ZIP, text or nothing at all.
            headers.update(payload.headers)
            return Outcome(status, payload.body, headers)
        headers.setdefault("Content-Type", _JSON)
        return Outcome(status, _json_body(payload), headers)

    def _process(self, route, request, fault):
        """Auth, method, media type, validation, then the endpoint. Returns (status, payload, headers)."""
        if route.endpoint == "token":
            return self._token(request)
        self._authenticate(request, expire=fault is not None and fault.kind == "expire_token")
        if request.method not in route.methods:
            raise Reply(405, {"error": "Method Not Allowed"}, {"Allow": ", ".join(route.methods)})
        body = {}
        if request.method == "POST" and request.body:
            if request.media_type != _JSON:
                raise Reply(415, {"error": "Unsupported Media Type: send the body as application/json"})
            if not request.json_ok:
                raise Reply(400, {"error": "the request body is not valid JSON"})
            body = request.json
        if request.method == "GET" and route.schema:
            # A GET endpoint's parameters are the query string's (Get Reports).
            body = dict(request.query)
        if route.schema:
            message = schemas.request_error(route.schema, body)
            if message:
                raise Reply(400, {"error": message})
        with self.lock:
            self.fleet.expire_exemptions()
            handler = getattr(self, "_" + route.endpoint)
            status, payload = handler(route, body)
        return status, payload, {}

    # ------------------------------------------------------------------------------------------- auth

    def _authenticate(self, request, expire=False):
        body_token = request.json.get("access_token") if request.json_ok and isinstance(request.json, dict) else None
        # Spring's order: header first, then the request parameter, then (as Axonius sends it) the JSON body.
        token = request.bearer() or request.query.get("access_token") or (body_token if isinstance(body_token, str) else None)
        www = {"WWW-Authenticate": 'Bearer realm="oauth2-resource", error="invalid_token"'}
        if not token:
            raise Reply(401, {"error": "invalid_token", "error_description": "Full authentication is required to access this resource"},
                        www)
        if expire:
            self.tokens.expire(token)
        state = self.tokens.state(token)
        # Like Spring Security OAuth2, the description echoes the token: clients must not show error bodies unredacted.
        if state == "unknown":
            raise Reply(401, {"error": "invalid_token", "error_description": f"Invalid access token: {token}"}, www)
        if state == "expired":
            raise Reply(401, {"error": "invalid_token", "error_description": f"Access token expired: {token}"}, www)

    def _token(self, request):
        if request.method not in ("GET", "POST"):
            raise Reply(405, {"error": "method_not_allowed", "error_description": f"Request method '{request.method}' not supported"},
                        {"Allow": "GET, POST"})
        params = dict(request.query)
        params.update(request.form)
        client_id, secret = params.get("client_id") or "", params.get("client_secret") or ""
        # Constant-time comparisons: a habit worth keeping even in a simulator.
        if not (hmac.compare_digest(client_id.encode(), self.config.client_id.encode())
                and hmac.compare_digest(secret.encode(), self.config.client_secret.encode())):
            raise Reply(401, {"error": "invalid_client", "error_description": "Bad client credentials"},
                        {"WWW-Authenticate": 'Basic realm="oauth2/client"'})
        grant = params.get("grant_type")
        if not grant:
            raise Reply(400, {"error": "invalid_request", "error_description": "Missing grant type"})
        if grant != "client_credentials":
            raise Reply(400, {"error": "unsupported_grant_type", "error_description": f"Unsupported grant type: {grant}"})
        answer = {"access_token": self.tokens.issue(), "token_type": "bearer", "expires_in": math.ceil(self.tokens.lifetime),
                  "scope": "read"}
        return 200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"}

    # -------------------------------------------------------------------------------------- endpoints

    def _account(self, route, body):
        fleet = self.fleet
        account = fleet.account
        by_status, by_severity, with_issues = fleet.account_counts()
        answer = {key: account[key] for key in ("name", "email", "last_login", "date_created", "devices_allowed")}
        # "Number of monitored devices": devices without an agent or past the license are not monitored.
        answer["devices_used"] = len(fleet.devices) - sum(by_status[status] for status in UNMONITORED_STATUSES)
        if route.version == (3, 0):
            answer.update(devices_uncompliant=by_status["non_compliant"], devices_critical=by_severity["critical"],
                          devices_issues=with_issues, devices_unknown=by_status["unknown"], license_key=account["license_key"])
            return 200, answer
        answer["license_key"] = account["license_key"]
        # The account API spells the status "non-compliant" where the device API says "non_compliant".
        answer["devices_by_status"] = [{"status": spelled, "number_of_devices": by_status[status]}
                                       for status, spelled in (("compliant", "compliant"), ("non_compliant", "non-compliant"),
                                                               ("exempted", "exempted"), ("unknown", "unknown"))]
        answer["devices_by_issue_severity"] = [{"severity": spelled, "number_of_devices": by_severity[severity]}
                                               for severity, spelled in (("critical", "critical"), ("warning", "warning"),
                                                                         ("no_issues", "no_issue"))]
        vulnerabilities = fleet.vulnerability_counts(body.get("score_type", "opswat_score"))
        answer["devices_by_vulnerability_severity"] = [{"severity": severity, "number_of_devices": number}
                                                       for severity, number in vulnerabilities.items()]
        return 200, answer

    @staticmethod
    def list_view(device, version):
        """A device as Get Devices of ``version`` lists it."""
        view = {key: device[key] for key in _LIST_FIELDS}
        if version >= (3, 6):
            view["host_name"] = device["host_name"]
        if version >= (3, 7):
            view["public_ip"] = device["public_ip"]
        return view

    def detail_view(self, device, version):
        """A device as Device Details of ``version`` answers it (docs/dev/api-notes.md, Device Details)."""
        view = {key: device[key] for key in _LIST_FIELDS}
        if version < (3, 3):
            # enrolled_at came with Device Details v3.3.
            del view["enrolled_at"]
        view["public_ip"] = device["public_ip"]
        # Device Details carries the agent type (from a public client's model: docs/dev/api-notes.md, Device Details); its values are not
        # documented, so the simulator uses plain names.
        view["agent_type"] = device["_sim"]["agent"]
        if version >= (3, 8):
            view["host_name"] = device["host_name"]
        issue = device["issue"]
        spelled = {"total_issue": issue["total_issue"]}
        if self.config.detail_issue_keys in ("detail", "both"):
            spelled.update(total_critical_issue=issue["total_critical"], total_warning_issue=issue["total_warning"])
        if self.config.detail_issue_keys in ("list", "both"):
            spelled.update(total_critical=issue["total_critical"], total_warning=issue["total_warning"])
        view["issue"] = spelled
        return view

    def _devices(self, route, body):
        fleet = self.fleet
        token = body.get("token")
        position = 0
        if token is not None:
            position = fleet.decode_cursor(token)
            if position is None:
                raise Reply(400, {"error": "invalid value for 'token': unknown pagination token"})
        page, more = fleet.page_after(position, body.get("limit", 20))
        answer = {}
        signal = self.config.end_signal
        if more or (signal == "empty_page" and page):
            answer["next_token"] = fleet.cursor(page[-1]["_sim"]["seq"] + 1)
        elif signal == "empty_page":
            # The page after the last one: empty, and it hands back the cursor it was given.
            answer["next_token"] = fleet.cursor(position)
        elif signal == "null":
            answer["next_token"] = None
        elif signal == "empty_string":
            answer["next_token"] = ""
        answer["devices"] = [self.list_view(device, route.version) for device in page]
        return 200, answer

    def _detail(self, route, body):
        found, seen = [], set()
        if body.get("opt", 0) == 0:
            for key in body["ids"]:
                device = self.fleet.device_by_id(key) or self.fleet.device_by_mac(key)
                if device is not None and device["device_id"] not in seen:
                    seen.add(device["device_id"])
                    found.append(self.detail_view(device, route.version))
        # opt 1 looks up third-party custom ids; the simulated account links none, so nothing is found.
        if not found:
            raise Reply(404, {"error": "Device not found"})
        return 200, (found if self.config.detail_shape == "list" else {"devices": found})

    def _groups(self, _route, body):
        limit, page = body.get("limit", 10), body.get("page", 1)
        if limit > 50:
            raise Reply(406, {"error": "invalid value for 'limit': must be <= 50"})
        counts = self.fleet.group_counts()
        groups = [dict(group, number_of_devices=counts.get(group["group_name"], 0)) for group in self.fleet.groups]
        search = body.get("search", "").casefold()
        if search:
            groups = [group for group in groups if search in group["group_name"].casefold() or search in group["policy_name"].casefold()]
        sort = body.get("sort", {})
        key = _GROUP_SORT_KEYS[sort.get("field", "group_name")]
        groups.sort(key=lambda group: (group[key].casefold() if isinstance(group[key], str) else group[key], group["group_id"]),
                    reverse=sort.get("order", "asc") == "desc")
        start = (page - 1) * limit
        if start >= len(groups) and self.config.groups_past_end == "413":
            raise Reply(413, {"error": "Requested page number exceeds page limit"})
        ordered = ("group_id", "group_name", "domain_name", "auto_join", "policy_id", "policy_name", "number_of_devices",
                   "description", "created_date", "last_modified")
        return 200, [{field: group[field] for field in ordered} for group in groups[start:start + limit]]

    def _action(self, route, body):
        action = body["types"]
        if action not in ACTION_TYPES_BY_VERSION[route.version]:
            major, minor = route.version
            raise Reply(400, {"error": f"invalid value for 'types': {action!r} is not supported by Device Action v{major}.{minor}"})
        by_mac = "macs" in body
        results = self.fleet.apply_action(action, body["macs"] if by_mac else body["ids"], by_mac, body.get("params", {}),
                                          route.version)
        if route.version == (3, 0):
            return 200, {key: status for key, status, _command in results}
        return 200, [{"id": key, "status": status, "command_id": command} for key, status, command in results]

    @staticmethod
    def status_change_view(device, entry, verbose):
        """A device as Status Change reports it; ``entry`` is its latest change in the window."""
        issue = device["issue"]
        record = {
            "device_id": device["device_id"],
            "status": STATUS_CHANGE_SPELLING[device["status"]],
            "status_detail": {"exempted": device["status"] == "exempted", "pending": device["status"] in ("installed", "pending")},
            "severity": device["severity"],
            "issue": {"total_issues": issue["total_issue"], "total_critical_issues": issue["total_critical"],
                      "total_warning_issues": issue["total_warning"]},
            "group_name": device["group_name"],
            "device_name": device["device_name"],
        }
        if verbose:
            previous = entry["previous_status"]
            record.update(changed_at=iso(entry["time"]), event=entry["event"],
                          previous_status=STATUS_CHANGE_SPELLING[previous] if previous else None,
                          os_type=device["os_info"]["type"], mac_addresses=[adapter["mac"] for adapter in device["network_info"]])
        return record

    def _status_changed(self, _route, body):
        config = self.config
        limit, page = body.get("limit", 20), body.get("page", 1)
        if not 1 <= limit <= 50:
            raise Reply(406, {"error": "invalid value for 'limit': must be between 1 and 50"})
        changed, deletions = self.fleet.changes_within(body.get("age", 86400), config.count_enrolments)
        if config.status_changed_shape == "list":
            deletions = []
        spread = config.deleted_paging == "spread"
        pages = max(1, -(-len(changed) // limit), -(-len(deletions) // limit) if spread else 0)
        if page > pages:
            raise Reply(413, {"error": "Requested page number exceeds page limit"})
        start = (page - 1) * limit
        monitored = [self.status_change_view(device, entry, body.get("verbose", 0)) for device, entry in changed[start:start + limit]]
        if spread:
            deletions = deletions[start:start + limit]
        elif page > 1:
            deletions = []
        deleted = [entry["device_id"] if config.deleted_format == "ids" else {"device_id": entry["device_id"]} for entry in deletions]
        if config.status_changed_shape == "list":
            return 200, monitored
        answer = {"monitored_devices": monitored, "deleted_devices": deleted}
        if config.status_changed_shape != "envelope":
            del answer[config.status_changed_shape.replace("no_", "") + "_devices"]
        return 200, answer

    # ------------------------------------------------------------ vulnerabilities and threats
    # Get Vulnerabilities (account-wide v3.1, of one device v3.1/v3.2) and Get Threats v3
    # (docs/dev/api-notes.md, Get Vulnerabilities and Get Threats); the data comes from Fleet.cves_of and
    # Fleet.threats_of.

    def _device_of(self, key):
        device = self.fleet.device_by_id(key) or self.fleet.device_by_mac(key)
        if device is None:
            raise Reply(404, {"error": "Device not found"})
        return device

    @staticmethod
    def _page_of(records, body, default_limit, max_limit):
        """The slice of ``records`` that ``page`` and ``limit`` ask for: 406 for a limit out of range, 413 past the end."""
        limit, page = body.get("limit", default_limit), body.get("page", 1)
        if not 1 <= limit <= max_limit:
            raise Reply(406, {"error": f"invalid value for 'limit': must be between 1 and {max_limit}"})
        start = (page - 1) * limit
        if page > 1 and start >= len(records):
            raise Reply(413, {"error": "Requested page number exceeds page limit"})
        return records[start:start + limit]

    def _cves(self, _route, body):
        wanted = body.get("filter", {})
        if "score" in wanted and "score_type" not in wanted:
            raise Reply(400, {"error": "invalid value for 'filter.score': filter.score_type is required with it"})
        score_type = wanted.get("score_type", "opswat_score")
        severities = wanted.get("severity", [])
        severities = [severities] if isinstance(severities, str) else severities
        unknown = [value for value in severities if value not in SEVERITIES_BY_SCORE_TYPE[score_type]]
        if unknown:
            raise Reply(400, {"error": f"invalid value for 'filter.severity': {unknown[0]!r} is not a severity of {score_type}"
                                       f" ({', '.join(SEVERITIES_BY_SCORE_TYPE[score_type])})"})
        counts = self.fleet.cve_device_counts()
        search = body.get("search", "").casefold()
        records = [dict(cve, severity=severity_of(score_type, cve[score_type]), number_of_devices=counts[cve["cve_id"]])
                   for cve in self.fleet.cve_catalogue() if cve["cve_id"] in counts
                   and (not search or search in cve["cve_id"].casefold() or search in cve["summary"].casefold())]
        if severities:
            records = [record for record in records if record["severity"] in severities]
        if "score" in wanted:
            records = [record for record in records if record[score_type] is not None and record[score_type] >= wanted["score"]]
        sort = body.get("sort", {})
        field = sort.get("field", "cve_id")
        if field == "severity":
            ranks = {name: rank for rank, name in enumerate(reversed(SEVERITIES_BY_SCORE_TYPE[score_type]))}
            ranks["unknown"] = -1
            records.sort(key=lambda record: (ranks[record["severity"]], record["cve_id"]), reverse=sort.get("order") == "desc")
        else:
            scored = [record for record in records if record[field] is not None]
            scored.sort(key=lambda record: (record[field], record["cve_id"]), reverse=sort.get("order") == "desc")
            # CVEs without a score come last in either order.
            records = scored + [record for record in records if record[field] is None]
        return 200, {"total": len(records), "cves": self._page_of(records, body, 20, 50)}

    def _device_cves(self, route, body):
        if "filter" in body and route.version < (3, 2):
            raise Reply(400, {"error": "unknown field 'filter': filter.kev came with v3.2"})
        device = self._device_of(body["id"])
        cves = self.fleet.cves_of(device)
        if body.get("filter", {}).get("kev"):
            cves = [cve for cve in cves if cve["kev"]]
        page = self._page_of(cves, body, 100, 100)
        if body.get("verbose", 0):
            page = [dict(cve, severity=severity_of("opswat_score", cve["opswat_score"])) for cve in page]
        else:
            page = [{"cve_id": cve["cve_id"]} for cve in page]
        return 200, {"device_id": device["device_id"], "total": len(cves), "cves": page}

    def _threats(self, _route, body):
        device = self._device_of(body["id"])
        verbose = body.get("verbose", {})
        threats = self._page_of(self.fleet.threats_of(device), body, 20, 50)
        answer = {}
        if verbose.get("antimalware_scan", 1):
            answer["antimalware_scan"] = threats
        if verbose.get("local_antimalware_threats", 0):
            # What the device's own antimalware product reported: the simulated agents report nothing.
            answer["local_antimalware_threats"] = []
        return 200, answer

    # -------------------------------------------------------------------------------------- Get Logs

    def _logs(self, _route, body):
        """Get Logs v3.3: one category's entries within the window, newest first, ``limit`` a page, cursor paged."""
        limit = body.get("limit", 20)
        if not 1 <= limit <= 100:
            raise Reply(406, {"error": "invalid value for 'limit': must be between 1 and 100"})
        start_ms, end_ms = self._log_window(body)
        before = None
        if body.get("token") is not None:
            before = self.fleet.decode_log_cursor(body["token"])
            if before is None:
                raise Reply(400, {"error": "invalid value for 'token': unknown pagination token"})
        category = body["event_category"]
        events = None
        if category != "device_report":  # the filter does not apply to device reports
            events = body.get("filter", {}).get("events")
            if isinstance(events, str):
                events = [event.strip() for event in events.split(",") if event.strip()]
        entries = self.fleet.log_entries(category, start_ms, end_ms, events, before)
        page = entries[:limit]
        answer = {"logs": [{key: value for key, value in entry.items() if key not in ("seq", "category")} for entry in page]}
        if len(entries) > limit:
            answer["next_token"] = self.fleet.log_cursor(page[-1]["seq"])
        return 200, answer

    def _log_window(self, body):
        """``(start, end)`` in epoch milliseconds: start_time/end_time, or the last ``age`` seconds (3600 by default)."""
        now_ms = int(self.fleet.now() * 1000)
        if "age" in body and ("start_time" in body or "end_time" in body):
            raise Reply(400, {"error": "give age or start_time/end_time, not both"})
        if "start_time" not in body and "end_time" not in body:
            return now_ms - body.get("age", 3600) * 1000, now_ms
        end_ms = body.get("end_time", now_ms)
        start_ms = body.get("start_time", end_ms - 3600 * 1000)
        if start_ms > end_ms:
            raise Reply(400, {"error": "invalid value for 'start_time': must not be after end_time"})
        return start_ms, end_ms
    # ------------------------------------------------------------------------------------ Get Reports

    def _reports(self, _route, query):
        return self.reports.answer(query)

    # -------------------------------------------------------------------------------------------- log

    def _log(self, request, route, outcome, fault, timing):
        received, started = timing
        scrub = self.scrubber
        if request.form:
            body = scrub.value(request.form)
        elif request.json_ok:
            body = scrub.value(request.json)
        elif request.body:
            body = scrub.raw(request.body.decode("utf-8", "replace"))
        else:
            body = None
        endpoint = route.endpoint if route else None
        entry = {
            "time": received,
            "method": request.method,
            # A careless client might put a token in the path itself.
            "path": scrub.text(request.path),
            "endpoint": endpoint,
            "query": scrub.query(request.query),
            "body": body,
            "status": outcome.status,
            "fault": fault.kind if fault is not None else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 3),
            "action": None,
            "ids_count": None,
        }
        if endpoint in ("action", "detail") and request.json_ok and isinstance(request.json, dict):
            if endpoint == "action" and isinstance(request.json.get("types"), str):
                entry["action"] = scrub.text(request.json["types"])
            ids = request.json.get("macs", request.json.get("ids"))
            if isinstance(ids, list):
                entry["ids_count"] = len(ids)
        self.log.append(entry)
