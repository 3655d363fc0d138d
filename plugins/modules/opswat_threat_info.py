#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_threat_info
short_description: Read what the antimalware scans of one IT Access device found
version_added: 0.1.0
description:
  - Returns the threats the antimalware scans of one device found (Get Threats v3, 50 a request), each with
    its file, hash, whether it is critical and when the scan ran.
  - Scans are started with P(opswat.it_access.opswat_device_action#module) and its V(scan_threats) action; the
    results appear here once the agent has reported them.
  - Costs one request for a device with up to 49 threats, plus a token request with client credentials.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.attributes
  - opswat.it_access.attributes.INFO_MODULE
  - opswat.it_access.attributes.ACTION_GROUP
options:
  device_id:
    description:
      - The device whose threats to return. Exactly one of O(device_id) and O(mac).
    type: str
  mac:
    description:
      - The device whose threats to return, by one of its MAC addresses, in any usual notation
        (C(aa:bb:cc:dd:ee:ff), C(AA-BB-CC-DD-EE-FF), C(aabb.ccdd.eeff)).
    type: str
  max_entries:
    description:
      - Return at most this many threats, and stop requesting pages as soon as they are there.
    type: int
seealso:
  - module: opswat.it_access.opswat_device_action
  - module: opswat.it_access.opswat_vulnerability_info
"""

EXAMPLES = r"""
- name: What the scans of one device found
  opswat.it_access.opswat_threat_info:
    device_id: 839219d384a64dc6c93954a61fe74648
  register: scan

- name: The critical ones
  ansible.builtin.debug:
    msg: "{{ item.file }} ({{ item.hash }})"
  loop: "{{ scan.threats | selectattr('critical') | list }}"

- name: The same device by MAC address
  opswat.it_access.opswat_threat_info:
    mac: aa:bb:cc:dd:ee:02
  register: scan_by_mac

# In a pipeline: fail when a device has threats
- name: Gate on threats
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the device's threats
      opswat.it_access.opswat_threat_info:
        device_id: 839219d384a64dc6c93954a61fe74648
      register: found

    - name: Gate
      ansible.builtin.assert:
        that: found.threats | selectattr('critical') | list | length == 0
        fail_msg: "{{ found.threats | map(attribute='file') | join(', ') }} are infected"
"""

RETURN = r"""
threats:
  description: The scan results (the API's C(antimalware_scan) records), as the API returns them, in its order.
  returned: success
  type: list
  elements: dict
  contains:
    file:
      description: The path of the infected file.
      type: str
      sample: C:\Users\Public\Downloads\setup_free.exe
    hash:
      description: The file's hash.
      type: str
      sample: 45cad2fe268b79e9c965a8453f23893ff952bfe5fcbe63e5f486548cb43f2d38
    critical:
      description: Whether the threat is critical.
      type: bool
      sample: true
    scan_time:
      description: When the scan that found it ran (GMT).
      type: str
      sample: "2025-06-15T02:50:52Z"
found:
  description: Whether the API knows the device. An unknown device is no failure; RV(threats) is then empty.
  returned: success
  type: bool
  sample: true
count:
  description: Number of threats in RV(threats).
  returned: success
  type: int
  sample: 1
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

from ansible_collections.opswat.it_access.plugins.module_utils.devices import one_device
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module

MODULE_OPTIONS = dict(
    device_id=dict(type="str"),
    mac=dict(type="str"),
    max_entries=dict(type="int"),
)


def run(module, client):
    params = module.params
    threats = client.threats.of_device(one_device(params["device_id"], params["mac"]),
                                       max_entries=params["max_entries"])
    return dict(changed=False, found=threats is not None, threats=threats or [], count=len(threats or []))


def main():
    run_module(run, MODULE_OPTIONS, mutually_exclusive=[("device_id", "mac")],
               required_one_of=[("device_id", "mac")])


if __name__ == "__main__":
    main()
