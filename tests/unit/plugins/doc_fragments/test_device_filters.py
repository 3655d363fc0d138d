# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/doc_fragments/device_filters.py documents the filters the code checks, with the same choices."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.opswat.it_access.plugins.doc_fragments.device_filters import ModuleDocFragment
from ansible_collections.opswat.it_access.plugins.module_utils.devices import FILTER_CHOICES
from ansible_collections.opswat.it_access.plugins.module_utils.session import MAX_PAGE_SIZE


def test_every_filter_with_choices_is_documented_with_the_checked_choices():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    for name, choices in FILTER_CHOICES.items():
        if choices is not None:  # group_name is free text, documented by each plugin
            assert options[name]["choices"] == choices, name
            assert (options[name]["type"], options[name]["elements"]) == ("list", "str"), name


def test_page_size_defaults_to_the_api_maximum():
    assert yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["page_size"]["default"] == MAX_PAGE_SIZE
