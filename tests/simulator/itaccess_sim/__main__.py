# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command line: ``PYTHONPATH=tests/simulator python -m itaccess_sim --port 8080 --devices 500``.

Prints ``itaccess-sim listening on <url>`` once it accepts connections (and, with ``--tls``, the path of
the CA certificate to trust), then serves until SIGINT or SIGTERM.
"""

import argparse
import signal
import sys
import threading

from .api import (DELETED_FORMATS, DELETED_PAGING, DETAIL_ISSUE_KEYS, DETAIL_SHAPES, END_SIGNALS, GROUPS_PAST_END,
                  STATUS_CHANGED_SHAPES)
from .ratelimit import RESET_TIME_FORMATS, SCOPES
from .reports import AGENT_LOG_FORMATS, NOT_READY_ANSWERS
from .simulator import Simulator


def build_parser():
    """The argument parser (one option per Simulator knob)."""
    parser = argparse.ArgumentParser(prog="python -m itaccess_sim", description="Simulated OPSWAT MetaDefender IT Access API.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (0 picks a free one)")
    parser.add_argument("--devices", type=int, default=1000, help="number of devices in the fleet")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated fleet")
    parser.add_argument("--client-id", default="sim-client", help="OAuth client id accepted by /o/oauth/token")
    parser.add_argument("--client-secret", default="sim-secret", help="OAuth client secret accepted by /o/oauth/token")
    parser.add_argument("--access-token", default=None, help="a preset access token that is accepted without asking /o/oauth/token")
    parser.add_argument("--token-lifetime", type=float, default=43199, help="seconds an issued token stays valid (expires_in)")
    parser.add_argument("--rate-limit", type=int, default=10, help="requests per window; 0 disables rate limiting")
    parser.add_argument("--window", type=float, default=60.0, help="rate-limit window in seconds")
    parser.add_argument("--rate-limit-scope", choices=SCOPES, default="account", help="one bucket per account or per endpoint")
    parser.add_argument("--retry-after", action="store_true", help="send Retry-After on 429 answers")
    parser.add_argument("--reset-time-format", choices=RESET_TIME_FORMATS, default="seconds",
                        help="X-RateLimit-Reset-Time as seconds until the reset or as an epoch timestamp")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its path is printed)")
    parser.add_argument("--log", dest="log_path", default=None, metavar="FILE", help="append the request log to FILE as JSON lines")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added before every API answer")
    parser.add_argument("--end-signal", choices=END_SIGNALS, default="missing", help="how Get Devices marks its last page")
    parser.add_argument("--detail-shape", choices=DETAIL_SHAPES, default="list", help="Device Details answer: bare list or {devices: [...]}")
    parser.add_argument("--detail-issue-keys", choices=DETAIL_ISSUE_KEYS, default="detail",
                        help="issue keys of Device Details: total_critical_issue (detail), total_critical (list) or both")
    parser.add_argument("--groups-past-end", choices=GROUPS_PAST_END, default="413", help="Get Groups past the last page: 413 or []")
    parser.add_argument("--case-sensitive-ids", action="store_true",
                        help="match device ids case-sensitively (an upper-case id is an unknown device)")
    parser.add_argument("--status-changed-shape", choices=STATUS_CHANGED_SHAPES, default="envelope",
                        help="Status Change answer: the envelope, a bare list of records, or the envelope without a key")
    parser.add_argument("--deleted-format", choices=DELETED_FORMATS, default="objects",
                        help="Status Change deleted_devices: {device_id} objects or bare id strings")
    parser.add_argument("--deleted-paging", choices=DELETED_PAGING, default="first_page",
                        help="Status Change deleted_devices: all on page 1, or paged like the monitored devices")
    parser.add_argument("--no-count-enrolments", dest="count_enrolments", action="store_false",
                        help="Status Change does not report a newly enrolled device as a change")
    parser.add_argument("--report-delay", type=float, default=0.0,
                        help="seconds after a scan_threats or fetch_agent_log command before Get Reports has its result")
    parser.add_argument("--report-not-ready", choices=NOT_READY_ANSWERS, default="404",
                        help="what Get Reports answers while a command's result is not ready")
    parser.add_argument("--agent-log-format", choices=AGENT_LOG_FORMATS, default="zip", help="agent logs as a ZIP or as text")
    parser.add_argument("--report-echo-url", action="store_true",
                        help="scan results echo the request's URL, access token included (for secret tests)")
    return parser


def main(argv=None):
    """Run the simulator until SIGINT or SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    options = vars(args)
    try:
        simulator = Simulator(**options)
        simulator.start()
    except (OSError, ValueError) as error:
        sys.stderr.write(f"itaccess-sim: {error}\n")
        return 2
    stop = threading.Event()

    def _on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        sys.stdout.write(f"itaccess-sim listening on {simulator.url}\n")
        if simulator.ca_path:
            sys.stdout.write(f"itaccess-sim CA certificate: {simulator.ca_path}\n")
        sys.stdout.flush()
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
