# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Standard attributes: every module uses DOCUMENTATION and ACTION_GROUP, plus INFO_MODULE or its own support levels."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options: {}
requirements:
  - requests
  - cryptography (optional; without it the token cache is off, see O(token_cache))
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying the service.
  diff_mode:
    description: Will return details on what has changed (or would change in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second run reports no change.
      - This assumes that nothing else changed the devices in between.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: all
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/opswat.it_access.it_access) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - opswat.it_access.it_access
"""
