# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The device filters shared by opswat_device_info and the inventory plugin (plugins/module_utils/devices.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  status:
    description:
      - Keep devices with one of these statuses.
      - Note the device status spelling V(non_compliant); the account summary spells it C(non-compliant).
    type: list
    elements: str
    choices: [compliant, non_compliant, exempted, out_of_license_usage, unknown, ignored, installed, pending, quarantined]
  severity:
    description: Keep devices with one of these issue severities.
    type: list
    elements: str
    choices: [critical, warning, no_issues]
  device_type:
    description: Keep devices of one of these types.
    type: list
    elements: str
    choices: [desktop, laptop, phone, tablet, server, vm]
  os_type:
    description: Keep devices whose operating system is one of these types.
    type: list
    elements: str
    choices: [windows, mac, linux, ios, android]
  page_size:
    description:
      - Devices a listing request asks for. The API allows 1 to 50; keep the default unless a proxy needs smaller answers.
    type: int
    default: 50
"""
