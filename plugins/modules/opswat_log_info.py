#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_log_info
short_description: Read the IT Access event logs
version_added: 0.1.0
description:
  - Reads the account's event logs of one category with Get Logs v3.3, newest first, for audits such as "who
    exempted this device, and when".
  - Entries come 100 a request. At the service's 10 requests a minute, 1,000 entries take 10 requests, about a
    minute. Use O(events), a short window (O(age) or O(since)/O(until)) and O(max_entries) where you can.
  - The API has no device filter. O(device_id) is applied to the entries the API returns, so it costs as many
    requests as reading the whole window without it.
  - Every bound the API sets is checked before any request is sent.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.attributes
  - opswat.it_access.attributes.INFO_MODULE
  - opswat.it_access.attributes.ACTION_GROUP
options:
  category:
    description:
      - The event log to read. V(admin) holds what administrators and OAuth applications did (device actions
        such as exempting a device), V(device) what happened to devices (enrolled, status changes, deleted),
        V(webhook) the webhook's deliveries, V(device_report) the device reports.
    type: str
    required: true
    choices: [admin, device, webhook, device_report]
  events:
    description:
      - Return only entries of these events, for example V(exempt) in the admin log or V(deleted) in the device
        log. The API applies the filter.
      - The API does not apply this filter to V(device_report); giving both is an error.
    type: list
    elements: str
  age:
    description:
      - Read the entries of the last this many seconds, from 1 to 86400 (the API's maximum).
      - Without O(age), O(since) and O(until) the API's default applies, the last hour.
      - Mutually exclusive with O(since) and O(until).
    type: int
  since:
    description:
      - Read the entries from this time on, an ISO 8601 time with a zone, for example V(2026-12-01T09:00:00Z) or
        V(2026-12-01T10:00:00+01:00).
      - Must not be after O(until). With O(since) alone the window ends now.
    type: str
  until:
    description:
      - Read the entries up to this time, an ISO 8601 time with a zone.
      - With O(until) alone the API chooses where the window starts (not documented; the collection's simulator
        reads the hour before O(until)).
    type: str
  device_id:
    description:
      - Return only the entries about this device (matched without regard to case).
      - The API has no such filter, so the window is read whole and filtered here, which costs as many requests
        as reading the window without O(device_id). Narrow it with O(events) and the window.
    type: str
  max_entries:
    description:
      - Return at most this many entries, the newest ones that match.
      - The reading stops as soon as it has them, which saves requests.
    type: int
notes:
  - The entries are returned as the API gives them, with RV(entries[].occurred_at) added. Which fields an entry
    carries beyond C(timestamp) and C(event), and the names of the admin log's events, are not documented by the
    vendor; see the collection's docs/logs.md.
seealso:
  - module: opswat.it_access.opswat_device_action
  - module: opswat.it_access.opswat_device_info
"""

EXAMPLES = r"""
- name: Exempt a device for a maintenance window
  opswat.it_access.opswat_device_action:
    action: exempt
    device_ids: [0123456789abcdef0123456789abcdef]
    exempt_hours: 4

- name: Who exempted this device in the last 24 hours, and when
  opswat.it_access.opswat_log_info:
    category: admin
    events: [exempt]
    age: 86400
    device_id: 0123456789abcdef0123456789abcdef
  register: exemptions

- name: Show it
  ansible.builtin.debug:
    msg: "{{ item.occurred_at }} {{ item.admin | default('?') }} ({{ item.source | default('?') }}): {{ item.details | default(item.event) }}"
  loop: "{{ exemptions.entries }}"

- name: The devices deleted during a change window
  opswat.it_access.opswat_log_info:
    category: device
    events: [deleted, deleted_api]
    since: "2026-12-01T08:00:00Z"
    until: "2026-12-01T10:00:00Z"
  register: deletions

- name: The ten newest admin entries of the last hour
  opswat.it_access.opswat_log_info:
    category: admin
    max_entries: 10
  register: recent
"""

RETURN = r"""
entries:
  description:
    - The entries, newest first, as the API returns them, with RV(entries[].occurred_at) added.
  returned: success
  type: list
  elements: dict
  contains:
    occurred_at:
      description: When the event happened, ISO 8601 in UTC, from the entry's C(timestamp) (added by the module).
      type: str
      sample: "2026-12-01T09:30:00.000Z"
    timestamp:
      description: When the event happened, as the API gives it (epoch milliseconds).
      type: raw
      sample: 1764581400000
    event:
      description: The event, for example C(exempt) (admin log) or C(deleted) (device log).
      type: str
      sample: exempt
    device_id:
      description: The device the entry is about, when it is about one.
      type: str
      sample: 0123456789abcdef0123456789abcdef
    device_name:
      description: The device's name.
      type: str
    admin:
      description: Admin log, where the API gives it; who acted.
      type: str
      sample: it-admin@example.com
    source:
      description: Where the API gives it; whether the action came from the console or through the OAuth API.
      type: str
      sample: api
    details:
      description: What was done, in the API's words.
      type: str
      sample: exempted for 4 hours
  sample:
    - occurred_at: "2026-12-01T09:30:00.000Z"
      timestamp: 1764581400000
      event: exempt
      device_id: 0123456789abcdef0123456789abcdef
      device_name: WS-0042
      admin: it-admin@example.com
      source: api
      details: exempted for 4 hours
api_requests:
  description: The HTTP requests this task sent.
  returned: always
  type: dict
  contains:
    requests:
      description: Every HTTP request sent, token requests, retries and throttled ones included.
      type: int
      sample: 2
    throttled:
      description: Answers with HTTP 429.
      type: int
      sample: 0
    retries:
      description: >-
        Requests sent again: after a 429 answer or a rejected access token (HTTP 401), and, for reads only,
        after a 5xx answer, a transport error or an answer that is not valid JSON. A device action is never
        sent again once it may have reached the service.
      type: int
      sample: 0
    waited_seconds:
      description: Seconds spent waiting on 429 answers and retry back-off (not the pacing between requests).
      type: float
      sample: 0.0
"""

from ansible_collections.opswat.it_access.plugins.module_utils.devices import id_key
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.logs import LOG_CATEGORIES, check_log_query, epoch_ms
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module

MODULE_OPTIONS = dict(
    category=dict(type="str", required=True, choices=LOG_CATEGORIES),
    events=dict(type="list", elements="str"),
    age=dict(type="int"),
    since=dict(type="str"),
    until=dict(type="str"),
    device_id=dict(type="str"),
    max_entries=dict(type="int"),
)


def run(module, client):
    params = module.params
    start_ms = None if params["since"] is None else epoch_ms("since", params["since"])
    end_ms = None if params["until"] is None else epoch_ms("until", params["until"])
    check_log_query(params["category"], params["events"], params["age"], start_ms, end_ms)
    max_entries = params["max_entries"]
    if max_entries is not None and max_entries < 1:
        raise InputError("max_entries", "must be at least 1, got %d" % max_entries)
    device_id = params["device_id"]
    # With a device filter the API's page sizes cannot follow max_entries: the filter is applied here.
    listing = client.logs.entries(params["category"], params["events"], params["age"], start_ms, end_ms,
                                  max_entries=max_entries if device_id is None else None)
    found = []
    try:
        for entry in listing:
            if device_id is not None and id_key(entry.get("device_id")) != id_key(device_id):
                continue
            found.append(entry)
            if max_entries is not None and len(found) >= max_entries:
                break
    finally:
        listing.close()
    found.sort(key=lambda entry: entry["occurred_at"], reverse=True)
    return dict(changed=False, entries=found)


def main():
    run_module(run, MODULE_OPTIONS, mutually_exclusive=[("age", "since"), ("age", "until")])


if __name__ == "__main__":
    main()
