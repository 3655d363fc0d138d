# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Status Change v3: records, spelling, age windows, paging (406, 413), deletions, enrolments, shapes, limits."""

import pytest
import requests

from sim_helpers import check
from itaccess_sim import Simulator
from itaccess_sim.__main__ import build_parser
from itaccess_sim.api import STATUS_CHANGE_SPELLING
from itaccess_sim.fleet import STATUSES

ENVELOPE = "status_changed.response.json"
ANY_SHAPE = "status_changed.any.response.json"


def _ids(records):
    return [record["device_id"] for record in records]


def _change(sim, count, start=0, seconds_ago=None):
    """Change ``count`` devices from position ``start``, the first one the oldest change; returns their ids."""
    ids = []
    for offset, device in enumerate(sim.fleet.devices[start:start + count]):
        status = "non_compliant" if device["status"] == "compliant" else "compliant"
        ago = seconds_ago if seconds_ago is not None else 1000 - offset
        ids.append(sim.change_status(device["device_id"], status, seconds_ago=ago))
    return ids


def _all_pages(api, body=None, schema=ENVELOPE):
    pages = []
    while True:
        response = api.status_changed(dict(body or {}, page=len(pages) + 1))
        if response.status_code == 413:
            check("error.response.json", response, 413)
            return pages
        pages.append(check(schema, response))


def test_nothing_changed_is_one_empty_page(api):
    assert check(ENVELOPE, api.status_changed()) == {"monitored_devices": [], "deleted_devices": []}
    check("error.response.json", api.status_changed({"page": 2}), 413)


def test_record_is_the_device_as_it_is_now(api):
    device = next(device for device in api.sim.fleet.devices if device["status"] == "compliant")
    api.sim.change_status(device["device_id"], "non_compliant")
    record, = check(ENVELOPE, api.status_changed())["monitored_devices"]
    issue = device["issue"]
    assert record == {
        "device_id": device["device_id"], "status": "non-compliant", "status_detail": {"exempted": False, "pending": False},
        "severity": device["severity"], "group_name": device["group_name"], "device_name": device["device_name"],
        "issue": {"total_issues": issue["total_issue"], "total_critical_issues": issue["total_critical"],
                  "total_warning_issues": issue["total_warning"]},
    }


@pytest.mark.parametrize("status, spelled, pending", [
    ("compliant", "compliant", False), ("non_compliant", "non-compliant", False), ("exempted", "exempted", False),
    ("quarantined", "non-compliant", False), ("installed", "non-compliant", True), ("pending", "non-compliant", True),
    ("unknown", "unknown", False), ("ignored", "unknown", False), ("out_of_license_usage", "unknown", False),
])
def test_status_spelling(api, status, spelled, pending):
    device = next(device for device in api.sim.fleet.devices if device["status"] != status)
    api.sim.change_status(device["device_id"], status)
    record, = check(ENVELOPE, api.status_changed())["monitored_devices"]
    assert record["status"] == spelled
    assert record["status_detail"] == {"exempted": status == "exempted", "pending": pending}


def test_every_status_has_a_spelling():
    assert set(STATUS_CHANGE_SPELLING) == set(STATUSES)


def test_device_actions_are_reported(api):
    device = next(device for device in api.sim.fleet.devices if device["status"] == "compliant" and device["_sim"]["agent"] == "persistent")
    assert api.action("exempt", ids=[device["device_id"]], params={"exempt_time": 0}).json()[0]["status"] == 1
    record, = check(ENVELOPE, api.status_changed())["monitored_devices"]
    assert (record["device_id"], record["status"], record["status_detail"]["exempted"]) == (device["device_id"], "exempted", True)


def test_paging_oldest_change_first_and_413(make_api):
    api = make_api()
    changed = _change(api.sim, 45)
    pages = _all_pages(api)
    assert [len(page["monitored_devices"]) for page in pages] == [20, 20, 5]
    assert [device_id for page in pages for device_id in _ids(page["monitored_devices"])] == changed
    assert _ids(check(ENVELOPE, api.status_changed({"limit": 50}))["monitored_devices"]) == changed
    check("error.response.json", api.status_changed({"page": 4}), 413)
    limited = _all_pages(api, {"limit": 15})
    assert [len(page["monitored_devices"]) for page in limited] == [15, 15, 15]


def test_a_device_changed_twice_appears_once_at_its_latest_change(api):
    first, second, third = _change(api.sim, 3)
    api.sim.change_status(first, "exempted")
    records = check(ENVELOPE, api.status_changed())["monitored_devices"]
    assert _ids(records) == [second, third, first]
    assert records[-1]["status"] == "exempted"


@pytest.mark.parametrize("limit", [0, 51, -3])
def test_limit_out_of_range_is_406(api, limit):
    check("error.response.json", api.status_changed({"limit": limit}), 406)


@pytest.mark.parametrize("body, field", [
    ({"age": -1}, "age"), ({"age": 86401}, "age"), ({"age": "3600"}, "age"), ({"page": 0}, "page"),
    ({"verbose": 2}, "verbose"), ({"verbose": True}, "verbose"), ({"limit": 2.5}, "limit"), ({"since": 3}, "since"),
])
def test_invalid_bodies_are_400(api, body, field):
    answer = check("error.response.json", api.status_changed(body), 400)
    assert field in answer["error"]


def test_age_window(api):
    sim = api.sim
    old, = _change(sim, 1, start=0, seconds_ago=5000)
    recent, = _change(sim, 1, start=1, seconds_ago=100)
    older_than_a_day, = _change(sim, 1, start=2, seconds_ago=90000)
    assert _ids(check(ENVELOPE, api.status_changed())["monitored_devices"]) == [old, recent]
    assert _ids(check(ENVELOPE, api.status_changed({"age": 86400}))["monitored_devices"]) == [old, recent]
    assert _ids(check(ENVELOPE, api.status_changed({"age": 1000}))["monitored_devices"]) == [recent]
    sim.advance_clock(200)
    assert not check(ENVELOPE, api.status_changed({"age": 250}))["monitored_devices"]
    assert not check(ENVELOPE, api.status_changed({"age": 0}))["monitored_devices"]
    assert older_than_a_day not in _ids(check(ENVELOPE, api.status_changed({"age": 86400}))["monitored_devices"])


def test_deletions(api):
    sim = api.sim
    changed_then_deleted, = _change(sim, 1, start=0, seconds_ago=500)
    sim.delete_device(changed_then_deleted, seconds_ago=400)
    deleted_long_ago = sim.delete_device(sim.fleet.devices[0]["device_id"], seconds_ago=50000)
    kept, = _change(sim, 1, start=5)
    answer = check(ENVELOPE, api.status_changed())
    assert _ids(answer["monitored_devices"]) == [kept]
    # Oldest deletion first.
    assert answer["deleted_devices"] == [{"device_id": deleted_long_ago}, {"device_id": changed_then_deleted}]
    answer = check(ENVELOPE, api.status_changed({"age": 10000}))
    assert answer["deleted_devices"] == [{"device_id": changed_then_deleted}]


def test_deletions_only_on_page_one_by_default(api):
    _change(api.sim, 25)
    deleted = [api.sim.delete_device(device["device_id"]) for device in api.sim.fleet.devices[100:130]]
    pages = _all_pages(api)
    assert len(pages) == 2
    assert _ids(pages[0]["deleted_devices"]) == deleted and pages[1]["deleted_devices"] == []


def test_deletions_spread_over_the_pages(make_api):
    api = make_api(deleted_paging="spread")
    _change(api.sim, 25)
    deleted = [api.sim.delete_device(device["device_id"]) for device in api.sim.fleet.devices[100:145]]
    pages = _all_pages(api)
    assert [(len(page["monitored_devices"]), len(page["deleted_devices"])) for page in pages] == [(20, 20), (5, 20), (0, 5)]
    assert [device_id for page in pages for device_id in _ids(page["deleted_devices"])] == deleted


def test_enrolments_count_as_changes_by_default(make_api):
    api = make_api()
    enrolled = api.sim.enrol_device(status="compliant")
    assert _ids(check(ENVELOPE, api.status_changed())["monitored_devices"]) == [enrolled]
    quiet = make_api(count_enrolments=False)
    quiet.sim.enrol_device(status="compliant")
    assert check(ENVELOPE, quiet.status_changed())["monitored_devices"] == []
    # A status change of an enrolled device still counts.
    changed = quiet.sim.change_status(quiet.sim.fleet.devices[-1]["device_id"], "non_compliant")
    assert _ids(check(ENVELOPE, quiet.status_changed())["monitored_devices"]) == [changed]


def test_verbose_adds_the_change_and_the_addresses(api):
    device = next(device for device in api.sim.fleet.devices if device["status"] == "compliant")
    api.sim.change_status(device["device_id"], "non_compliant", seconds_ago=60)
    enrolled = api.sim.enrol_device(status="pending")
    changed, new = check(ENVELOPE, api.status_changed({"verbose": 1}))["monitored_devices"]
    assert (changed["event"], changed["previous_status"], changed["os_type"]) == ("status", "compliant", device["os_info"]["type"])
    assert changed["mac_addresses"] == [adapter["mac"] for adapter in device["network_info"]]
    assert changed["changed_at"] < new["changed_at"]
    assert (new["device_id"], new["event"], new["previous_status"]) == (enrolled, "enrolled", None)
    plain = check(ENVELOPE, api.status_changed({"verbose": 0}))["monitored_devices"][0]
    assert "changed_at" not in plain and "mac_addresses" not in plain


@pytest.mark.parametrize("options, expected", [
    ({"status_changed_shape": "list"}, lambda changed, deleted: [changed]),
    ({"status_changed_shape": "no_deleted"}, lambda changed, deleted: {"monitored_devices": [changed]}),
    ({"status_changed_shape": "no_monitored"}, lambda changed, deleted: {"deleted_devices": [{"device_id": deleted}]}),
    ({"deleted_format": "ids"}, lambda changed, deleted: {"monitored_devices": [changed], "deleted_devices": [deleted]}),
])
def test_other_shapes(make_api, options, expected):
    api = make_api(**options)
    changed, = _change(api.sim, 1)
    deleted = api.sim.delete_device(api.sim.fleet.devices[50]["device_id"])
    answer = check(ANY_SHAPE, api.status_changed())
    record = api.status_changed().json()
    shaped = expected(changed, deleted)
    if isinstance(answer, list):
        assert _ids(answer) == shaped
    else:
        assert {key: (value if key == "deleted_devices" else _ids(value)) for key, value in record.items()} == shaped


def test_shape_settings_over_the_control_endpoint(api):
    url = api.sim.url + "/_sim/status_changed"
    assert requests.get(url, timeout=10).json() == {"shape": "envelope", "deleted_format": "objects", "deleted_paging": "first_page",
                                                    "count_enrolments": True}
    settings = requests.post(url, json={"shape": "list", "deleted_format": "ids"}, timeout=10).json()
    assert settings["shape"] == "list" and settings["deleted_format"] == "ids" and settings["deleted_paging"] == "first_page"
    _change(api.sim, 2)
    assert isinstance(check(ANY_SHAPE, api.status_changed()), list)
    assert requests.post(url, json={"shape": "xml"}, timeout=10).status_code == 400
    assert requests.post(url, json={"count_enrolments": "yes"}, timeout=10).status_code == 400


def test_bad_shape_option_is_refused(make_sim):
    with pytest.raises(ValueError, match="deleted_paging"):
        make_sim(deleted_paging="last_page")


def test_authenticated_and_post_only(api):
    check("oauth_error.response.json", api.post("/o/api/v3/devices/status_changed", {}, token=False), 401)
    check("error.response.json", api.get("/o/api/v3/devices/status_changed"), 405)


def test_rate_limited_and_counted(make_api):
    # The login took one request of the three.
    api = make_api(rate_limit=3, window=3600)
    assert [api.status_changed().status_code for _attempt in range(2)] == [200, 200]
    check("error.response.json", api.status_changed(), 429)
    # One bucket for the account: Status Change used up what Get Devices would have had.
    assert api.devices({"limit": 1}).status_code == 429
    logged = [(entry["endpoint"], entry["status"]) for entry in api.sim.request_log() if entry["endpoint"] != "token"]
    assert logged == [("status_changed", 200), ("status_changed", 200), ("status_changed", 429), ("devices", 429)]


def test_the_bench_scale_pages(make_api):
    api = make_api(devices=2000)
    changes = api.sim.random_changes(100, seed=7, deletions=5)
    pages = _all_pages(api, {"limit": 50})
    assert [len(page["monitored_devices"]) for page in pages] == [50, 50]
    assert sorted(device_id for page in pages for device_id in _ids(page["monitored_devices"])) == sorted(changes["changed"])
    assert _ids(pages[0]["deleted_devices"]) and sorted(_ids(pages[0]["deleted_devices"])) == sorted(changes["deleted"])


def test_faults_target_status_change(api):
    _change(api.sim, 45)
    # The second page fails, the others answer: a client paging through must notice.
    api.sim.add_fault("status", code=503, endpoint="status_changed", after=1)
    assert [api.status_changed({"page": page}).status_code for page in (1, 2, 3)] == [200, 503, 200]
    api.sim.add_fault("malformed", endpoint="status_changed")
    response = api.status_changed()
    assert response.status_code == 200 and response.text.startswith("{") and not response.text.endswith("}")
    assert api.groups().status_code == 200


def test_cli_options_reach_the_service():
    defaults = Simulator(**vars(build_parser().parse_args(["--devices", "0"]))).set_status_changed()
    assert defaults == {"shape": "envelope", "deleted_format": "objects", "deleted_paging": "first_page", "count_enrolments": True}
    args = build_parser().parse_args(["--devices", "0", "--status-changed-shape", "no_deleted", "--deleted-format", "ids",
                                      "--deleted-paging", "spread", "--no-count-enrolments"])
    chosen = Simulator(**vars(args)).set_status_changed()
    assert chosen == {"shape": "no_deleted", "deleted_format": "ids", "deleted_paging": "spread", "count_enrolments": False}
