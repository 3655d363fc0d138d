# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``make bench``: the collection against its rate-limit bound and against a hand-written ``uri`` playbook.

Runs the scenarios of docs/performance.md against the simulator, prints the table, writes the JSON result and
(on a full run) rewrites the results part of docs/performance.md and the plot. ``--help`` lists the options.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position


def repository_root():
    """Where results and docs go. ``make bench`` runs this file in the synced copy
    <repo>/.build/collections/ansible_collections/opswat/it_access, whose docs are overwritten by the next sync:
    the results belong to the repository the copy was made from."""
    parts = benchlib.ROOT.split(os.sep)
    if len(parts) > 5 and parts[-5] == ".build" and parts[-4] == "collections":
        return os.sep.join(parts[:-5])
    return benchlib.ROOT


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=repository_root(),
                        help="the repository whose .build/bench and docs/ receive the results (default: found from"
                             " where this file is, the Makefile's copy of the tree included)")
    parser.add_argument("--quick", action="store_true",
                        help="a small, fast run: 1,000 devices (100 exempted, 200 assigned), 5,000 for scenario 6;"
                             " does not touch the docs unless --doc is given")
    parser.add_argument("--devices", type=int, help="fleet of scenarios 1-5 (default 10,000)")
    parser.add_argument("--exempt", type=int, help="devices exempted in scenarios 2-3 (default 500)")
    parser.add_argument("--assign", type=int, help="devices assigned in scenario 4 (default 1,000)")
    parser.add_argument("--big", type=int, help="fleet of scenario 6 (default 50,000)")
    parser.add_argument("--scale", type=float, default=60.0,
                        help="time scale factor: the simulator allows 10 requests a 60/SCALE s window and the"
                             " collection gets requests_per_minute = 10*SCALE and rate_limit_window = 60/SCALE"
                             " (default 60)")
    parser.add_argument("--scenarios", default="1,2,3,4,5,6,7,8,9,10,11,12",
                        help="comma-separated scenario numbers (default all)")
    parser.add_argument("--sides", default=",".join(benchlib.SIDES),
                        help="comma-separated sides: collection, baseline, baseline_batched (default all)")
    parser.add_argument("--baseline-divisor", type=int,
                        help="run the per-device baseline at the sizes divided by this (default 10, 1 with --quick: it"
                             " costs Ansible most of a second of CPU a request); 1 runs it at full size (about an hour"
                             " of CPU)")
    parser.add_argument("--output",
                        help="JSON result (default <repo>/.build/bench/result.json)")
    parser.add_argument("--doc", help="the Markdown file whose results part to rewrite (default on a full run:"
                                      " <repo>/docs/performance.md)")
    parser.add_argument("--no-doc", action="store_true", help="leave the docs and the plot alone")
    parser.add_argument("--plot", help="the plot, .png (matplotlib) or .svg (default: next to the doc,"
                                       " performance.png; an SVG when matplotlib is missing)")
    parser.add_argument("--render", metavar="RESULT_JSON",
                        help="run nothing: rewrite the doc and the plot (and print the table) from a result written before")
    parser.add_argument("--real-limit-check", action=argparse.BooleanOptionalAction,
                        help="also run scenario 3 (collection side) at the service's real limit, 10 requests a 60 s"
                             " window, to measure its wall time rather than project it: about a minute (default: on"
                             " for a full run; off with --quick or --scale 1; never without scenario 3 and the"
                             " collection side)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (playbook outputs)")
    parser.add_argument("--verbose", "-v", action="store_true", help="run ansible-playbook with -v")
    args = parser.parse_args(argv)
    root = args.repo
    if args.output is None:
        args.output = os.path.join(root, ".build", "bench", "result.json")
    if args.quick:
        defaults = dict(devices=1000, exempt=100, assign=200, big=5000)
    else:
        defaults = dict(devices=10000, exempt=500, assign=1000, big=50000)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.baseline_divisor is None:
        args.baseline_divisor = 1 if args.quick else 10
    if args.doc is None and not args.quick and not args.no_doc:
        args.doc = os.path.join(root, "docs", "performance.md")
    if args.no_doc:
        args.doc = None
    if args.doc and not args.plot:
        args.plot = os.path.join(os.path.dirname(args.doc), "performance.png")
    args.scenarios = [int(value) for value in args.scenarios.split(",") if value.strip()]
    args.sides = [value.strip() for value in args.sides.split(",") if value.strip()]
    if args.real_limit_check is None:
        args.real_limit_check = not args.quick and args.scale != 1
    # Decided once, here: the check is scenario 3's collection side, so it runs only when both are asked for.
    args.real_limit_check = args.real_limit_check and 3 in args.scenarios and "collection" in args.sides
    unknown = [side for side in args.sides if side not in benchlib.SIDES]
    if unknown:
        parser.error("unknown side(s): %s" % ", ".join(unknown))
    return args


def log(message):
    print(message, flush=True)


def publish(args, result):
    """Print the table; rewrite the doc and the plot when asked to."""
    print()
    print(report.console_table(result))
    print()
    if args.doc:
        plot = report.write_plot(result, args.plot)
        report.update_doc(args.doc, result, report.relative_link(args.doc, plot))
        log("doc: %s, plot: %s" % (args.doc, plot))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        with open(args.render, encoding="utf-8") as handle:
            publish(args, json.load(handle))
        return 0
    scale = benchlib.Scale(args.scale)
    sizes = benchlib.Sizes(devices=args.devices, exempt=args.exempt, assign=args.assign, big=args.big)
    ctx = benchlib.Context(scale, sizes, verbose=args.verbose, log=log)
    started = datetime.now(timezone.utc)
    load_before = benchlib.machine_info()["load_average"]
    log("bench: scale %g (simulator %d requests a %g s window, requests_per_minute %d, rate_limit_window %g), %s;"
        " scratch %s"
        % (scale.factor, scale.rate_limit, scale.window, scale.requests_per_minute, scale.rate_limit_window,
           ", ".join("%s %s" % (k, format(v, ",")) for k, v in sizes.as_dict().items()), ctx.workdir))
    clock = time.monotonic()
    try:
        scenarios = benchlib.run_bench(ctx, args.scenarios, args.sides, args.baseline_divisor,
                                       real_limit_check=args.real_limit_check)
    finally:
        if not args.keep:
            ctx.close()
    # Scenario 3 comes with 2; keep only what was asked for.
    scenarios = [scenario for scenario in scenarios if scenario["number"] in args.scenarios]
    machine = benchlib.machine_info()
    machine["load_before"] = load_before
    machine["load_after"] = machine.pop("load_average")
    result = dict(
        started=started.strftime("%Y-%m-%d %H:%M"),
        duration_seconds=round(time.monotonic() - clock, 1),
        machine=machine,
        settings=dict(scale=scale.as_dict(), sizes=sizes.as_dict(), page=benchlib.PAGE, seed=benchlib.SEED,
                      quick=args.quick, baseline_divisor=args.baseline_divisor,
                      real_limit_check=args.real_limit_check),
        scenarios=scenarios,
        targets=benchlib.evaluate_targets(scenarios),
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
    publish(args, result)
    log("result: %s" % args.output)
    failed_runs = [(s["number"], side) for s in scenarios for side, run in s["runs"].items() if not run["done"]]
    if failed_runs:
        log("runs that did not do their job: %s" % failed_runs)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
