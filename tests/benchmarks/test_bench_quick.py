# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark, small and fast, so that it cannot rot: scenarios 1-4 on the collection side.

It runs the code and playbooks of ``make bench`` on 500 devices and asserts counts only, never timings: requests
equal to the theoretical minimum, no 429, no write when there is nothing to do, the modules' own
``api_requests`` equal to the simulator's log, and the job done. One test runs the four scenarios, so that
pytest-xdist never splits them over workers (each would run them all again).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib  # noqa: E402  pylint: disable=wrong-import-position

# 10 requests a 3 s window: the module paces itself to one request every 0.3 s, while an unpaced client would
# send the 11 pages of scenario 1 within the first window and draw a 429. A window this long keeps the pacing
# margin (1%, 30 ms) above the scheduling jitter of a loaded CI machine, so the zero-429 check is not flaky.
SCALE = 20
SIZES = benchlib.Sizes(devices=500, exempt=50, assign=100, big=0)
KEYS = ("list", "exempt", "exempt_again", "assign")


def test_minimums_follow_the_formulas():
    # token + pages; token + reads + writes; token + group look-up + reads + writes; 50 devices a request.
    assert benchlib.minimum(token=1, list=benchlib.batches(10000))["total"] == 201
    assert benchlib.batches(500) == 10 and benchlib.batches(501) == 11 and benchlib.batches(50) == 1
    assert benchlib.baseline_requests("assign", benchlib.Sizes())["total"] == 1 + 1 + 1000
    assert benchlib.baseline_requests("list", benchlib.Sizes())["by_kind"]["list"] == 200


def test_scale_keeps_the_shape_of_the_limit():
    scale = benchlib.Scale(60)
    assert (scale.rate_limit, scale.window, scale.requests_per_minute) == (10, 1.0, 600)
    assert abs(scale.interval - 0.1) < 1e-9 and abs(scale.retry_delay - 1.0) < 1e-9


def test_quick_bench(tmp_path):
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenarios = dict((result["key"], result) for result in benchlib.run_all(ctx, [1, 2, 3, 4], ("collection",)))
    assert sorted(scenarios) == sorted(KEYS)
    assert scenarios["list"]["minimum"]["total"] == 1 + 10
    assert scenarios["exempt"]["minimum"]["total"] == 1 + 1 + 1
    assert scenarios["exempt_again"]["minimum"]["total"] == 1 + 1
    assert scenarios["assign"]["minimum"]["total"] == 1 + 1 + 2 + 2

    problems = []
    for key in KEYS:
        scenario = scenarios[key]
        run = scenario["runs"]["collection"]
        checks = [
            ("ran", run["returncode"] == 0 and run["done"]),
            ("requests by kind = minimum", run["requests_by_kind"] == scenario["minimum"]["by_kind"]),
            ("no 429", run["throttled"] == 0),
            ("no error answer", run["errors"] == 0),
            ("api_requests = simulator log", run.get("module_reported_requests") == run["requests"]),
        ]
        if key == "exempt_again":
            checks.append(("no write", run["writes"] == 0))
        problems += ["%s: %s (%r)" % (key, name, run) for name, ok in checks if not ok]
    assert not problems, "\n".join(problems)
