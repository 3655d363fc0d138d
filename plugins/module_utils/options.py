# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of option types that Ansible's own conversions let through.

Ansible's ``type: int`` (in modules, plugin options and role argument specs) accepts a boolean as it is, since
Python's ``bool`` is an ``int``: ``exempt_hours: true`` would reach the API as ``true``. Every integer option of
the collection is checked here, before any request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError


def check_integer(option, value):
    """``value`` unchanged when it is an integer or None; InputError naming ``option`` for a boolean."""
    if isinstance(value, bool):
        raise InputError(option, "must be an integer, not a boolean (%s)" % str(value).lower())
    return value


def reject_boolean_integers(spec, params, prefix=""):
    """Check every ``type: int`` option of an argument ``spec`` in ``params``, suboptions included.

    ``prefix`` is put before the names in errors, so that an item's option reads as ``actions[2].exempt_hours``.
    """
    for name, entry in spec.items():
        value = (params or {}).get(name)
        if value is None:
            continue
        if entry.get("type") == "int":
            check_integer(prefix + name, value)
        suboptions = entry.get("options")
        if not suboptions:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    reject_boolean_integers(suboptions, item, "%s%s[%d]." % (prefix, name, index))
        elif isinstance(value, dict):
            reject_boolean_integers(suboptions, value, "%s%s." % (prefix, name))
