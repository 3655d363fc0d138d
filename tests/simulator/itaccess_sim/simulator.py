# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``Simulator``: the public face of the package, used by the tests, the demo, the benchmarks and the CLI.

It owns the fleet, the token store, the rate limiter, the fault queue and the request log, runs the HTTP
server in a background thread, and offers the same controls in Python and over ``/_sim/*``.
"""

import math
import shutil
import ssl
import tempfile
import threading

from .api import (DELETED_FORMATS, DELETED_PAGING, DETAIL_ISSUE_KEYS, DETAIL_SHAPES, END_SIGNALS, GROUPS_PAST_END,
                  STATUS_CHANGED_SHAPES, Service, TokenStore)
from .faults import FaultQueue, make_fault
from .fleet import Fleet
from .ratelimit import RESET_TIME_FORMATS, SCOPES, RateLimiter
from .reports import AGENT_LOG_FORMATS, NOT_READY_ANSWERS
from .requestlog import RequestLog, Scrubber
from .server import SimHTTPServer
from .tls import make_certificates


class _Config:  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """The knobs the service reads on every request."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f'{name} must be one of {", ".join(choices)}, not {value!r}')
    return value


class Simulator:  # pylint: disable=too-many-instance-attributes
    """A simulated MetaDefender IT Access API on loopback. See docs/simulator.md."""

    def __init__(self, devices=1000, seed=1, client_id="sim-client", client_secret="sim-secret",  # pylint: disable=too-many-arguments
                 access_token=None, token_lifetime=43199, rate_limit=10, window=60.0, rate_limit_scope="account",
                 retry_after=False, tls=False, host="127.0.0.1", port=0, log_path=None, latency=0.0,
                 end_signal="missing", detail_shape="list", groups_past_end="413", reset_time_format="seconds",
                 detail_issue_keys="detail", case_sensitive_ids=False, status_changed_shape="envelope",
                 deleted_format="objects", deleted_paging="first_page", count_enrolments=True, report_delay=0.0,
                 report_not_ready="404", agent_log_format="zip", report_echo_url=False):
        # pylint: disable=too-many-locals,too-many-positional-arguments
        if not isinstance(token_lifetime, (int, float)) or token_lifetime <= 0:
            raise ValueError("token_lifetime must be a number of seconds > 0")
        if not isinstance(latency, (int, float)) or latency < 0:
            raise ValueError("latency must be a number of seconds >= 0")
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret must not be empty")
        self.config = _Config(
            client_id=client_id, client_secret=client_secret, latency=float(latency),
            end_signal=_choice("end_signal", end_signal, END_SIGNALS),
            detail_shape=_choice("detail_shape", detail_shape, DETAIL_SHAPES),
            groups_past_end=_choice("groups_past_end", str(groups_past_end), GROUPS_PAST_END),
            detail_issue_keys=_choice("detail_issue_keys", detail_issue_keys, DETAIL_ISSUE_KEYS),
        )
        self.set_status_changed(status_changed_shape, deleted_format, deleted_paging, count_enrolments)
        self.set_reports(report_delay, report_not_ready, agent_log_format, report_echo_url)
        self.fleet = Fleet(devices, seed)
        self.fleet.case_sensitive_ids = bool(case_sensitive_ids)
        self._tokens = TokenStore(token_lifetime, access_token)
        self._limiter = RateLimiter(rate_limit, window, _choice("rate_limit_scope", rate_limit_scope, SCOPES), retry_after,
                                    _choice("reset_time_format", reset_time_format, RESET_TIME_FORMATS))
        self._faults = FaultQueue()
        self._log = RequestLog(log_path)
        scrubber = Scrubber(self._tokens.known, (client_secret, access_token, self.fleet.account["license_key"]))
        self.service = Service(self.config, self.fleet, self._tokens, self._limiter, self._faults, self._log, scrubber)
        self._tls = tls
        self._address = (host, port)
        self._server = None
        self._thread = None
        self._tls_dir = None
        self.ca_path = None
        self._errors = []

    # ---------------------------------------------------------------------------------------- lifecycle

    def start(self):
        """Bind and serve in a background thread; returns self. ``port=0`` picks a free port.

        A stopped simulator can be started again: it keeps its state and binds the port it had, so its URL
        does not change ("the API went away and came back").
        """
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._log.open()
        context = None
        if self._tls:
            self._tls_dir = tempfile.mkdtemp(prefix="itaccess-sim-tls-")
            self.ca_path, cert_path, key_path = make_certificates(self._tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_path, key_path)
        self._server = SimHTTPServer(self._address, self, context)
        self._address = (self._address[0], self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="itaccess-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close open connections and remove the temporary certificates. Idempotent."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._thread.join(timeout=10)
            self._server = None
            self._thread = None
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None
            self.ca_path = None
        self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        """Base URL of the running simulator, e.g. ``http://127.0.0.1:43117``."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f'{"https" if self._tls else "http"}://{host}:{port}'

    @property
    def port(self):
        """The bound port (useful with ``port=0``)."""
        return self._server.server_address[1] if self._server is not None else None

    @property
    def license_key(self):
        """The account's license key (the tests check that it never leaks)."""
        return self.fleet.account["license_key"]

    @property
    def errors(self):
        """Unexpected server-side errors outside request handling (should stay empty)."""
        return list(self._errors)

    def record_error(self, text):
        """Called by the HTTP server for an unexpected error it could not answer."""
        self._errors.append(text)

    # ----------------------------------------------------------------------------------------- controls

    def request_log(self):
        """The handled API requests, oldest first (see docs/simulator.md for the fields)."""
        return self._log.entries()

    def clear_log(self):
        """Forget the logged requests."""
        self._log.clear()

    def add_fault(self, kind, count=1, endpoint=None, **options):
        """Inject a fault for the next ``count`` requests to ``endpoint`` (None: any endpoint)."""
        self._faults.add(make_fault(kind, count, endpoint, **options))

    def clear_faults(self):
        """Remove every pending fault."""
        self._faults.clear()

    def pending_faults(self):
        """Descriptions of the faults not yet used up."""
        return self._faults.pending()

    def issued_tokens(self):
        """Every access token issued so far, and the preset one: tests search outputs for them."""
        return self._tokens.all()

    def expire_tokens(self):
        """Every token issued so far (and the preset one) is expired from now on: the API answers 401."""
        self._tokens.expire()

    def set_rate_limit(self, rate_limit, window, scope=None, retry_after=None):
        """Change the limit (0 disables it), the window in seconds and optionally scope and Retry-After."""
        self._limiter.configure(rate_limit, window, scope, retry_after)

    def advance_clock(self, seconds):
        """Move the fleet's clock forward (finite exemptions expire when their time has passed)."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a number >= 0")
        self.fleet.advance_clock(seconds)

    def set_status_changed(self, shape=None, deleted_format=None, deleted_paging=None, count_enrolments=None):
        """Choose how Status Change answers (None keeps a setting); returns the settings."""
        config = self.config
        if shape is not None:
            config.status_changed_shape = _choice("shape", shape, STATUS_CHANGED_SHAPES)
        if deleted_format is not None:
            config.deleted_format = _choice("deleted_format", deleted_format, DELETED_FORMATS)
        if deleted_paging is not None:
            config.deleted_paging = _choice("deleted_paging", deleted_paging, DELETED_PAGING)
        if count_enrolments is not None:
            if not isinstance(count_enrolments, bool):
                raise ValueError("count_enrolments must be true or false")
            config.count_enrolments = count_enrolments
        return {"shape": config.status_changed_shape, "deleted_format": config.deleted_format,
                "deleted_paging": config.deleted_paging, "count_enrolments": config.count_enrolments}

    def set_reports(self, delay=None, not_ready=None, agent_log_format=None, echo_url=None):
        """Choose how Get Reports answers command results (None keeps a setting); returns the settings.

        ``delay``: seconds (of the fleet's clock) after its command before a result is ready; ``not_ready``: the
        answer until then (NOT_READY_ANSWERS); ``agent_log_format``: zip or text; ``echo_url``: scan results echo
        the request's URL, access token included.
        """
        config = self.config
        if delay is not None:
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay) or delay < 0:
                raise ValueError("delay must be a number of seconds >= 0")
            config.report_delay = float(delay)
        if not_ready is not None:
            config.report_not_ready = _choice("not_ready", str(not_ready), NOT_READY_ANSWERS)
        if agent_log_format is not None:
            config.agent_log_format = _choice("agent_log_format", agent_log_format, AGENT_LOG_FORMATS)
        if echo_url is not None:
            if not isinstance(echo_url, bool):
                raise ValueError("echo_url must be true or false")
            config.report_echo_url = echo_url
        return {"delay": config.report_delay, "not_ready": config.report_not_ready,
                "agent_log_format": config.agent_log_format, "echo_url": config.report_echo_url}

    def commands(self):
        """The fetch_agent_log and scan_threats commands so far: ``{command_id: {action, device_id, issued_at}}``."""
        with self.fleet.lock:
            return {key: dict(value) for key, value in self.fleet.commands.items()}

    def change_status(self, device_id, status, seconds_ago=0):
        """Set a device's status (Get Devices' spelling), stamped ``seconds_ago`` in the past; returns its id."""
        return self.fleet.change_status(device_id, status, seconds_ago)["device_id"]

    def delete_device(self, device_id, seconds_ago=0):
        """Delete a device, stamped ``seconds_ago`` in the past; returns its id."""
        return self.fleet.delete_device(device_id, seconds_ago)["device_id"]

    def enrol_device(self, **options):
        """Enrol a new device (``status``, ``device_type``, ``os_type``, ``group_name``, ``seconds_ago``); returns its id."""
        return self.fleet.enrol_device(**options)["device_id"]

    def random_changes(self, count, seed=1, deletions=0, seconds_ago=0):
        """Change ``count`` random devices' status and delete ``deletions`` others, deterministically from ``seed``."""
        return self.fleet.random_changes(count, seed, deletions, seconds_ago)

    def history(self):
        """The change history, oldest first: ``{time, event, device_id, status, previous_status}``."""
        return self.fleet.history_entries()

    # ---------------------------------------------------------------------------------- /_sim endpoints

    def control(self, request):
        """Answer a ``/_sim/*`` request: (status, payload). No token, no rate limit, not logged."""
        if request.body and not request.json_ok:
            return 400, {"error": "the request body is not valid JSON"}
        body = request.json if request.json_ok else {}
        if not isinstance(body, dict):
            return 400, {"error": "the request body must be a JSON object"}
        handler = {
            ("POST", "/_sim/faults"): self._control_add_fault,
            ("GET", "/_sim/faults"): lambda body: (200, {"faults": self.pending_faults()}),
            ("DELETE", "/_sim/faults"): lambda body: (self.clear_faults(), (200, {"faults": []}))[1],
            ("POST", "/_sim/expire_tokens"): lambda body: (self.expire_tokens(), (200, {"expired": True}))[1],
            ("GET", "/_sim/log"): lambda body: (200, self.request_log()),
            ("DELETE", "/_sim/log"): lambda body: (self.clear_log(), (200, []))[1],
            ("POST", "/_sim/rate_limit"): self._control_rate_limit,
            ("POST", "/_sim/advance_clock"): self._control_advance_clock,
            ("POST", "/_sim/change_status"): lambda body: (200, {"device_id": self.change_status(**body)}),
            ("POST", "/_sim/delete_device"): lambda body: (200, {"device_id": self.delete_device(**body)}),
            ("POST", "/_sim/enrol_device"): lambda body: (200, {"device_id": self.enrol_device(**body)}),
            ("POST", "/_sim/random_changes"): lambda body: (200, self.random_changes(**body)),
            ("GET", "/_sim/history"): lambda body: (200, self.history()),
            ("POST", "/_sim/status_changed"): lambda body: (200, self.set_status_changed(**body)),
            ("GET", "/_sim/status_changed"): lambda body: (200, self.set_status_changed()),
            ("POST", "/_sim/reports"): lambda body: (200, self.set_reports(**body)),
            ("GET", "/_sim/reports"): lambda body: (200, self.set_reports()),
            ("GET", "/_sim/commands"): lambda body: (200, self.commands()),
        }.get((request.method, request.path.rstrip("/")))
        if handler is None:
            return 404, {"error": f"unknown control endpoint {request.method} {request.path}"}
        try:
            return handler(body)
        except (TypeError, ValueError) as error:
            return 400, {"error": str(error)}

    def _control_add_fault(self, body):
        options = dict(body)
        kind = options.pop("kind", None)
        count = options.pop("count", 1)
        endpoint = options.pop("endpoint", None)
        self.add_fault(kind, count, endpoint, **options)
        return 200, {"faults": self.pending_faults()}

    def _control_rate_limit(self, body):
        limiter = self._limiter
        self.set_rate_limit(body.get("rate_limit", limiter.limit), body.get("window", limiter.window), body.get("scope"),
                            body.get("retry_after"))
        return 200, {"rate_limit": limiter.limit, "window": limiter.window, "scope": limiter.scope, "retry_after": limiter.retry_after}

    def _control_advance_clock(self, body):
        seconds = body.get("seconds", 0)
        self.advance_clock(seconds)
        return 200, {"advanced": seconds}
