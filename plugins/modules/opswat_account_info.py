#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_account_info
short_description: Read the IT Access account summary
version_added: 0.1.0
description:
  - Returns the account of the credentials with device counts by status, issue severity and vulnerability
    severity (Account Details v3.2).
  - Costs one request, plus one token request when client credentials are used.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.attributes
  - opswat.it_access.attributes.INFO_MODULE
  - opswat.it_access.attributes.ACTION_GROUP
options:
  score_type:
    description:
      - The score used to classify devices by vulnerability severity.
    type: str
    choices: [opswat_score, cvss2_score, cvss3_score]
    default: opswat_score
  include_license_key:
    description:
      - Return the account's license key in RV(account.license_key).
      - The key is a secret, so it is left out unless asked for; when you ask for it, protect the task with C(no_log).
    type: bool
    default: false
seealso:
  - module: opswat.it_access.opswat_device_info
"""

EXAMPLES = r"""
- name: Read the account summary
  opswat.it_access.opswat_account_info:
    client_id: "{{ opswat_client_id }}"
    client_secret: "{{ opswat_client_secret }}"
  register: opswat_account

- name: Show the non-compliant count
  ansible.builtin.debug:
    msg: >-
      {{ opswat_account.account.devices_by_status
         | selectattr('status', 'equalto', 'non-compliant')
         | map(attribute='number_of_devices') | first | default(0) }} non-compliant devices

# In a CI/CD pipeline, credentials come from the environment
# (OPSWAT_CLIENT_ID and OPSWAT_CLIENT_SECRET, or OPSWAT_ACCESS_TOKEN) and no option is needed.
- name: Gate a pipeline on the account's critical devices
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the account
      opswat.it_access.opswat_account_info:
        score_type: cvss3_score
      register: account

    - name: Fail when critical devices exist
      ansible.builtin.assert:
        that: >-
          (account.account.devices_by_issue_severity
           | selectattr('severity', 'equalto', 'critical')
           | map(attribute='number_of_devices') | sum) == 0
        fail_msg: Critical devices are present

# In a role, set the connection once for every module of the collection.
- name: Use module_defaults in a remediation play
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/opswat.it_access.it_access:
      api_url: https://gears.opswat.com
      client_id: "{{ vault_opswat_client_id }}"
      client_secret: "{{ vault_opswat_client_secret }}"
  tasks:
    - name: Read the account
      opswat.it_access.opswat_account_info:
      register: account
"""

RETURN = r"""
account:
  description:
    - The account as the API returns it (Account Details v3.2). Lists and spellings are kept as they are;
      note C(non-compliant) in RV(account.devices_by_status) against C(non_compliant) in device objects.
  returned: success
  type: dict
  contains:
    name:
      description: Account name.
      type: str
      returned: success
      sample: OPSWAT IT
    email:
      description: Owner email address.
      type: str
      returned: success
      sample: it@example.com
    last_login:
      description: Last time the owner logged into the console.
      type: str
      returned: success
      sample: "2026-11-20T08:00:00Z"
    date_created:
      description: Date the account was created.
      type: str
      returned: success
      sample: "2019-10-04T08:00:00Z"
    devices_allowed:
      description: Maximum number of devices the license allows.
      type: int
      returned: success
      sample: 1000
    devices_used:
      description: Number of monitored devices.
      type: int
      returned: success
      sample: 500
    license_key:
      description: The account's license key. Only with O(include_license_key=true).
      type: str
      returned: when O(include_license_key=true)
    devices_by_status:
      description: Device counts by status (C(compliant), C(non-compliant), C(exempted), C(unknown)).
      type: list
      elements: dict
      returned: success
      sample: [{"status": "compliant", "number_of_devices": 400}, {"status": "non-compliant", "number_of_devices": 60}]
    devices_by_issue_severity:
      description: Device counts by issue severity (C(critical), C(warning), C(no_issue)).
      type: list
      elements: dict
      returned: success
      sample: [{"severity": "critical", "number_of_devices": 12}]
    devices_by_vulnerability_severity:
      description: Device counts by vulnerability severity under O(score_type).
      type: list
      elements: dict
      returned: success
      sample: [{"severity": "high", "number_of_devices": 30}]
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

from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module

MODULE_OPTIONS = dict(
    score_type=dict(type="str", choices=["opswat_score", "cvss2_score", "cvss3_score"], default="opswat_score"),
    include_license_key=dict(type="bool", default=False),
)


def run(module, client):
    account = client.account.get(score_type=module.params["score_type"])
    if not module.params["include_license_key"]:
        account.pop("license_key", None)
    return dict(changed=False, account=account)


def main():
    run_module(run, MODULE_OPTIONS)


if __name__ == "__main__":
    main()
