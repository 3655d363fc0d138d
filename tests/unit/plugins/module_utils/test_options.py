# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integer options that refuse booleans, and device ids compared without regard to case."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import connection, devices
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer, reject_boolean_integers

SPEC = dict(
    count=dict(type="int"),
    name=dict(type="str"),
    items=dict(type="list", elements="dict", options=dict(hours=dict(type="int"), flag=dict(type="bool"))),
    single=dict(type="dict", options=dict(size=dict(type="int"))),
)


@pytest.mark.parametrize("params, option", [
    (dict(count=True), "count"),
    (dict(items=[dict(hours=1), dict(hours=False)]), "items[1].hours"),
    (dict(single=dict(size=True)), "single.size"),
])
def test_a_boolean_in_an_integer_option_is_refused_with_its_name(params, option):
    with pytest.raises(InputError) as raised:
        reject_boolean_integers(SPEC, params)
    assert raised.value.option == option and "not a boolean" in raised.value.reason


def test_integers_and_other_types_pass():
    reject_boolean_integers(SPEC, dict(count=0, name="x", items=[dict(hours=5, flag=True)], single=None))
    assert check_integer("x", 7) == 7 and check_integer("x", None) is None


def test_integer_connection_options_refuse_booleans_also_outside_modules():
    # The inventory plugin builds its connection with config_from_params, without AnsibleModule.
    with pytest.raises(InputError) as raised:
        connection.config_from_params(dict(access_token="t", requests_per_minute=True))
    assert raised.value.option == "requests_per_minute"


def test_ids_compare_without_regard_to_case_and_keep_the_first_spelling():
    assert devices.id_key("ABCdef") == "abcdef" and devices.id_key(None) is None
    assert devices.unique_ids(["AB", "ab", "cd", "Ab", "CD"]) == ["AB", "cd"]
