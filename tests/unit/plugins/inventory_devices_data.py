# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Canned devices for the tests of the devices inventory (the plugin and its host building)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

EVIL = "{{ lookup('env','HOME') }}"
DEFAULT_HOSTNAMES = ["device_name", "host_name", "first_ipv4", "device_id"]


def device(number, **fields):
    """A device as Get Devices returns it; ``fields`` override the defaults."""
    values = dict(
        device_id=hashlib.md5(b"device %d" % number).hexdigest(),
        device_name="dev-%d" % number,
        host_name="dev-%d.corp.example.com" % number,
        nickname="Device %d" % number,
        status="compliant",
        severity="no_issues",
        device_type="desktop",
        group_name="Default",
        public_ip="198.51.100.%d" % (number % 250 + 1),
        os_info={"family": "Windows", "name": "Microsoft Windows 11 Pro", "type": "windows"},
        network_info=[{"mac": "8C-EC-4B-00-00-%02X" % (number % 256), "ipv4": "10.0.0.%d" % (number % 250 + 1)}],
        issue={"total_issue": 0, "total_critical": 0, "total_warning": 0},
    )
    values.update(fields)
    return values
