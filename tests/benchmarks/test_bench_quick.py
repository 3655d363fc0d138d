# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark, small and fast, so that it cannot rot: scenarios 1-4 and 7-9 on the collection side, and the check
of scenario 3 that make bench runs at the real limit (here at the same scale as the rest).

It runs the code and playbooks of ``make bench`` on 500 devices and asserts counts only, never timings: requests
equal to the theoretical minimum, no 429, no write when there is nothing to do, the modules' own
``api_requests`` equal to the simulator's log, and the job done. One test runs the four scenarios, so that
pytest-xdist never splits them over workers (each would run them all again).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position

# The scale of make bench: 10 requests a 1 s window; the module paces itself to one request every 0.1 s, while an
# unpaced client would send the 11 pages of scenario 1 within the first window and draw a 429. The spacing's 1%
# margin (10 ms here) is below the scheduling jitter of a loaded machine; the zero-429 check holds all the same
# because of the pacer's window rule (rate_limit_window: 1), which does not depend on timing. This test guards it.
SCALE = 60
SIZES = benchlib.Sizes(devices=500, exempt=50, assign=100, big=0)
KEYS = ("list", "exempt", "exempt_again", "assign")


def test_minimum_of_the_role_over_the_devices_changed():
    """Scenario 5's minimum without the listing, plus the change pages and one read of the changed devices."""
    plans = [dict(action="assign_to_group", matched=3, to_write=3, changes=2, ids=["a", "b", "c"]),
             dict(action="exempt", matched=1, to_write=1, changes=1, ids=["c"]),
             dict(action="scan_threats", matched=0, to_write=0, changes=0, ids=[])]
    low = benchlib.incremental_remediation_minimum(100, plans)
    assert low["by_kind"] == dict(token=1, list=0, detail=2 + 1, groups=1, action=1 + 1, account=0, changes=3, other=0)
    assert low["total"] == 10
    # 120 changed: two full change pages and a short one; three reads of the changed devices.
    assert benchlib.incremental_remediation_minimum(120, plans)["by_kind"]["changes"] == 3
    assert benchlib.incremental_remediation_minimum(120, plans)["by_kind"]["detail"] == 3 + 1


def test_minimums_follow_the_formulas():
    # token + pages; token + reads + writes; token + group look-up + reads + writes; 50 devices a request.
    assert benchlib.minimum(token=1, list=benchlib.batches(10000))["total"] == 201
    assert benchlib.batches(500) == 10 and benchlib.batches(501) == 11 and benchlib.batches(50) == 1
    assert benchlib.baseline_requests("assign", benchlib.Sizes())["total"] == 1 + 1 + 1000
    assert benchlib.baseline_requests("list", benchlib.Sizes())["by_kind"]["list"] == 200


def test_minimum_of_the_role():
    """One token, one group look-up, the reads of all the rules' targets together (a check mode that tells the
    truth needs them), and only the writes the reads show are needed (see benchlib.remediation_minimum)."""
    def ids(prefix, count):
        return ["%s%d" % (prefix, index) for index in range(count)]

    plans = [dict(action="assign_to_group", matched=152, to_write=152, changes=140, ids=ids("q", 152)),
             dict(action="exempt", matched=130, to_write=130, changes=130, ids=ids("e", 130)),
             dict(action="scan_threats", matched=101, to_write=101, changes=51, ids=ids("s", 101)),
             dict(action="unexempt", matched=0, to_write=0, changes=0, ids=[])]  # no target: not in the call
    low = benchlib.remediation_minimum(10000, plans)
    assert low["by_kind"] == dict(token=1, list=200, detail=8, groups=1, action=3 + 3 + 2, account=0, changes=0, other=0)
    assert low["total"] == 218
    # Without the reads: every device not yet in the wanted state is written, applicable or not.
    assert benchlib.listing_alone_requests(10000, plans)["total"] == 1 + 200 + 1 + 4 + 3 + 3
    # A device two rules act on is read once.
    overlapping = [dict(plans[0]), dict(plans[2], ids=ids("q", 101))]
    assert benchlib.remediation_minimum(10000, overlapping)["by_kind"]["detail"] == 4
    no_group = benchlib.remediation_minimum(1000, plans[1:])
    assert no_group["by_kind"]["groups"] == 0 and no_group["by_kind"]["token"] == 1


def test_scale_keeps_the_shape_of_the_limit():
    scale = benchlib.Scale(60)
    assert (scale.rate_limit, scale.window, scale.requests_per_minute) == (10, 1.0, 600)
    assert scale.rate_limit_window == scale.window  # the collection's budget: 600 x 1 / 60 = 10 a window
    assert abs(scale.interval - 0.1) < 1e-9 and abs(scale.retry_delay - 1.0) < 1e-9


def test_quick_bench(tmp_path):
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenarios = dict((result["key"], result) for result in benchlib.run_all(ctx, [1, 2, 3, 4], ("collection",)))
    # The check make bench runs at the real limit, here at the same scale: the devices it sets exempted in the
    # fleet must leave it scenario 3's job (a token and the reads, no write).
    benchlib.run_real_limit_check(ctx, list(scenarios.values()), scale=benchlib.Scale(SCALE))
    assert sorted(scenarios) == sorted(KEYS)
    assert scenarios["list"]["minimum"]["total"] == 1 + 10
    assert scenarios["exempt"]["minimum"]["total"] == 1 + 1 + 1
    assert scenarios["exempt_again"]["minimum"]["total"] == 1 + 1
    assert scenarios["assign"]["minimum"]["total"] == 1 + 1 + 2 + 2

    problems = []
    runs = [(key, scenarios[key], "collection") for key in KEYS] + [("exempt_again", scenarios["exempt_again"],
                                                                    "collection_real")]
    for key, scenario, side in runs:
        run = scenario["runs"][side]
        checks = [
            ("ran", run["returncode"] == 0 and run["done"]),
            ("requests by kind = minimum", run["requests_by_kind"] == scenario["minimum"]["by_kind"]),
            ("no 429", run["throttled"] == 0),
            ("no error answer", run["errors"] == 0),
            ("api_requests = simulator log", run.get("module_reported_requests") == run["requests"]),
        ]
        if key == "exempt_again":
            checks.append(("no write", run["writes"] == 0))
        problems += ["%s %s: %s (%r)" % (key, side, name, run) for name, ok in checks if not ok]
    assert not problems, "\n".join(problems)
    targets = benchlib.evaluate_targets(list(scenarios.values()))
    measured = [target for target in targets
                if target["target"] == "wall time at the real limit (measured) within 5% of its bound"]
    assert [target["scenario"] for target in measured] == ["3. The same again (nothing to do)"]

    # The tables make bench prints and writes into docs/performance.md, from this run.
    machine = benchlib.machine_info()
    machine["load_before"] = machine["load_after"] = machine.pop("load_average")
    result = dict(started="quick", duration_seconds=1.0, machine=machine, targets=targets,
                  settings=dict(scale=ctx.scale.as_dict(), sizes=SIZES.as_dict(), real_limit_check=True),
                  scenarios=[scenarios[key] for key in KEYS])
    markdown, console = report.results_markdown(result, None), report.console_table(result)
    for text in (markdown, console):
        assert report.SIDE_LABELS["collection_real"] in text
        assert "wall time at the real limit (measured) within 5% of its bound" in text
    assert "| information |" in markdown and "\ninfo " in console


def test_quick_changes_scenario(tmp_path):
    """Scenario 9 on 500 devices: a token and the change pages (100 changes: two full pages, one that ends the
    paging), no listing and no Device Details (the fields asked are in the change records), no 429."""
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenario, = benchlib.run_all(ctx, [9], ("collection",))
    run = scenario["runs"]["collection"]
    assert scenario["minimum"]["by_kind"]["changes"] == 3 and scenario["minimum"]["total"] == 4
    assert scenario["listing_today"]["total"] == 1 + 10
    assert run["returncode"] == 0 and run["done"], run
    assert run["requests_by_kind"] == scenario["minimum"]["by_kind"], run
    assert run["throttled"] == 0 and run["errors"] == 0
    assert run.get("module_reported_requests") == run["requests"]
    targets = [target for target in benchlib.evaluate_targets([scenario]) if target["scenario"].startswith("9.")]
    assert [target["met"] for target in targets if target["target"] in ("requests = minimum", "zero 429")] == [True] * 2
    assert [target["met"] for target in targets if "(projected)" in target["target"]] == [None]


def test_quick_incremental_remediation_scenario(tmp_path):
    """Scenario 8 on 500 devices: the role with remediation_changed_within after 100 changes sends its minimum
    (a token, the group look-up, three change pages, the reads and the writes), no listing, no 429, and leaves
    every device its rules change in the wanted state."""
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenario, = benchlib.run_all(ctx, [8], ("collection",))
    run = scenario["runs"]["collection"]
    assert scenario["minimum"]["by_kind"]["changes"] == 3 and scenario["minimum"]["by_kind"]["list"] == 0
    assert sum(rule["changes"] for rule in scenario["rules"]) > 0, "no rule changes a device: the scenario proves little"
    assert run["returncode"] == 0 and run["done"], run
    assert run["requests_by_kind"] == scenario["minimum"]["by_kind"], run
    assert run["throttled"] == 0 and run["errors"] == 0
    assert run.get("module_reported_requests") == run["requests"]
    assert scenario["role_whole_fleet"]["by_kind"]["list"] == 10
    targets = [target for target in benchlib.evaluate_targets([scenario]) if target["scenario"].startswith("8.")]
    assert [target["met"] for target in targets if target["target"] in ("requests = minimum", "zero 429")] == [True] * 2
    assert [target["met"] for target in targets if "(projected)" in target["target"]] == [None]


def test_quick_inventory_refresh_scenario(tmp_path):
    """Scenario 7 on 500 devices: after the cached listing, 100 status changes and 5 deletions; the refresh sends a
    token, the change pages (two full, one that ends the paging), two Device Details and one Account Details, no
    listing, no 429, and its inventory is the simulator's fleet."""
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenario, = benchlib.run_all(ctx, [7], ("collection",))
    run = scenario["runs"]["collection"]
    assert scenario["minimum"]["by_kind"] == dict(token=1, list=0, detail=2, groups=0, action=0, account=1, changes=3,
                                                  other=0)
    assert scenario["listing_today"]["total"] == 1 + 10
    assert run["returncode"] == 0 and run["done"], run
    assert run["requests_by_kind"] == scenario["minimum"]["by_kind"], run
    assert run["throttled"] == 0 and run["errors"] == 0


def test_quick_two_runners_scenario(tmp_path):
    """Scenario 11, two runners in parallel on one account: sharing a real redis-server, they send one token and
    both listings, no 429, each module's count equal to the simulator's log; without it, each fetches its own token."""
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenario, = benchlib.run_all(ctx, [11], ("collection",))
    shared, alone = scenario["runs"]["collection"], scenario["runs"]["collection_without_store"]
    assert scenario["minimum"]["by_kind"]["token"] == 1 and scenario["minimum"]["by_kind"]["list"] == 2 * 5
    for run in (shared, alone):
        assert run["returncode"] == 0 and run["done"], run
        assert run.get("module_reported_requests") == run["requests"]
    assert shared["requests_by_kind"] == scenario["minimum"]["by_kind"], shared
    assert shared["throttled"] == 0 and shared["errors"] == 0
    assert alone["requests_by_kind"]["token"] == 2, alone
    markdown = report.scenario_table(scenario)
    assert report.SIDE_LABELS["collection_without_store"] in markdown


def test_quick_scan_and_wait_scenario(tmp_path):
    """Scenario 12: a scan of 100 devices waited on costs its minimum: 1 token + 2 reads + 2 writes + 100 report
    requests, no 429, every device's result in."""
    ctx = benchlib.Context(benchlib.Scale(SCALE), SIZES, workdir=str(tmp_path))
    scenario, = benchlib.run_all(ctx, [12], ("collection",))
    run = scenario["runs"]["collection"]
    assert scenario["minimum"]["total"] == 1 + 2 + 2 + 100
    assert run["returncode"] == 0 and run["done"], run
    assert run["requests_by_kind"] == scenario["minimum"]["by_kind"], run
    assert run["throttled"] == 0 and run["errors"] == 0
    assert run.get("module_reported_requests") == run["requests"]
