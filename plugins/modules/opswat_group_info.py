#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_group_info
short_description: List the IT Access device groups
version_added: 0.1.0
description:
  - Lists the account's device groups with Get Groups v3.0, 50 a request (one request for most accounts).
  - The default group is named C(Default) and has the id C(default).
  - Groups are managed in the IT Access console; the API offers no way to create them.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.attributes
  - opswat.it_access.attributes.INFO_MODULE
  - opswat.it_access.attributes.ACTION_GROUP
options:
  name:
    description:
      - Return only the group with exactly this name (case-sensitive). No match returns an empty list.
      - O(group_name) is an alias, the name the other modules of the collection give a group.
      - The name is matched here rather than with the API's C(search), whose matching rules are not documented,
        so a group is never missed; the cost is the same for accounts with up to 50 groups.
    type: str
    aliases: [group_name]
seealso:
  - module: opswat.it_access.opswat_device_action
"""

EXAMPLES = r"""
- name: List every group
  opswat.it_access.opswat_group_info:
  register: all_groups

- name: Find the Quarantine group
  opswat.it_access.opswat_group_info:
    name: Quarantine
  register: quarantine

- name: Fail when it does not exist
  ansible.builtin.assert:
    that: quarantine.groups | length == 1
    fail_msg: Create the Quarantine group in the IT Access console first

# In a pipeline, with the connection from the environment (OPSWAT_CLIENT_ID, OPSWAT_CLIENT_SECRET)
- name: Report group sizes
  hosts: localhost
  gather_facts: false
  tasks:
    # Not "register: groups": groups is Ansible's own variable (the inventory's groups), and wins.
    - name: List groups
      opswat.it_access.opswat_group_info:
      register: account_groups

    - name: Show them
      ansible.builtin.debug:
        msg: "{{ item.group_name }}: {{ item.number_of_devices }}"
      loop: "{{ account_groups.groups }}"

# In a role, with the connection set once
- name: Use the action group
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/opswat.it_access.it_access:
      access_token: "{{ vault_opswat_access_token }}"
  tasks:
    - name: Find the Servers group (group_name, as in the other modules, is an alias of name)
      opswat.it_access.opswat_group_info:
        group_name: Servers
      register: servers_group
"""

RETURN = r"""
groups:
  description: The groups as the API returns them.
  returned: success
  type: list
  elements: dict
  contains:
    group_id:
      description: Group id, used by P(opswat.it_access.opswat_device_action#module) with O(opswat.it_access.opswat_device_action#module:group_id).
      type: str
      sample: 5b8a7e6c1f0a4d2b9c3e4f5a
    group_name:
      description: Group name, as device objects show it in C(group_name).
      type: str
      sample: Quarantine
    policy_id:
      description: Id of the policy assigned to the group.
      type: str
    policy_name:
      description: Name of the policy assigned to the group.
      type: str
      sample: Strict
    number_of_devices:
      description: Devices in the group.
      type: int
      sample: 12
    domain_name:
      description: Active Directory domain, when the group is synchronised from one.
      type: str
    auto_join:
      description: Whether devices join the group automatically.
      type: bool
    description:
      description: Group description.
      type: str
    created_date:
      description: Creation time (GMT).
      type: str
    last_modified:
      description: Last change (GMT).
      type: str
  sample:
    - group_id: default
      group_name: Default
      policy_name: Default Policy
      number_of_devices: 420
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
    name=dict(type="str", aliases=["group_name"]),
)


def run(module, client):
    groups = client.groups.list()
    name = module.params["name"]
    if name is not None:
        groups = [group for group in groups if group.get("group_name") == name]
    return dict(changed=False, groups=groups)


def main():
    run_module(run, MODULE_OPTIONS)


if __name__ == "__main__":
    main()
