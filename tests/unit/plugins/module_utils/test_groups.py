# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GroupsClient: pages of groups, the end of the listing, progress, the page ceiling and shapes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import UnexpectedResponseError
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import GROUPS


def groups(first, count):
    return [{"group_id": "g%d" % number, "group_name": "G%d" % number} for number in range(first, first + count)]


def test_groups_single_short_page(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 3))
    assert len(harness.client().groups.list()) == 3


def test_groups_full_page_then_413(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 50))
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, status=413, text="")
    assert len(harness.client().groups.list()) == 50


def test_groups_pages_until_a_short_page(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 50))
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, body={"groups": groups(51, 50)})
    harness.expect("POST", GROUPS, json_body={"page": 3, "limit": 50}, body=groups(101, 10))
    found = harness.client().groups.list()
    assert [group["group_id"] for group in found] == ["g%d" % number for number in range(1, 111)]


def test_groups_full_page_then_empty_list(harness):
    harness.expect("POST", GROUPS, body=groups(1, 50))
    harness.expect("POST", GROUPS, body=[])
    assert len(harness.client().groups.list()) == 50


def test_groups_413_on_the_first_page(harness):
    harness.expect("POST", GROUPS, status=413)
    assert harness.client().groups.list() == []


def test_groups_api_ignoring_the_page_number_is_an_error(harness):
    harness.expect("POST", GROUPS, body=groups(1, 50))
    harness.expect("POST", GROUPS, body=groups(1, 50))
    with pytest.raises(UnexpectedResponseError, match="would loop"):
        harness.client().groups.list()


def test_groups_unexpected_shape(harness):
    harness.expect("POST", GROUPS, body={"data": []})
    with pytest.raises(UnexpectedResponseError, match="groups list"):
        harness.client().groups.list()


# ---------------------------------------------------------------------- progress


def test_groups_alternating_two_pages_stop_at_the_third(harness):
    page_a, page_b = groups(1, 50), groups(51, 50)
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=page_a)
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, body=page_b)
    harness.expect("POST", GROUPS, json_body={"page": 3, "limit": 50}, body=page_a)
    client = harness.client()
    with pytest.raises(UnexpectedResponseError) as caught:
        client.groups.list()
    assert str(caught.value) == "POST %s: unexpected answer: page 3 repeats page 1: the listing would loop" % GROUPS
    assert client.metrics["requests"] == 3


def test_groups_pages_that_differ_go_on(harness):
    harness.expect("POST", GROUPS, body=groups(1, 50))
    harness.expect("POST", GROUPS, body=groups(2, 50))  # overlaps page 1 but is not page 1
    harness.expect("POST", GROUPS, body=groups(200, 1))
    assert len(harness.client().groups.list()) == 101


# ---------------------------------------------------------------------- the page ceiling and fields of the wrong type


def test_a_group_listing_never_asks_more_than_max_listing_pages(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 50))
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, body=groups(51, 50))
    with pytest.raises(UnexpectedResponseError, match=r"max_listing_pages \(2 pages, 100 groups\)"):
        harness.client(max_listing_pages=2).groups.list()


@pytest.mark.parametrize("fields, what", [
    (dict(group_name=["Default"]), "group_name is a JSON array"),
    (dict(group_id={"id": "g1"}), "group_id is a JSON object"),
])
def test_a_group_field_of_the_wrong_type_is_an_unexpected_answer(harness, fields, what):
    harness.expect("POST", GROUPS, body={"groups": groups(1, 2) + [dict(groups(3, 1)[0], **fields)]})
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().groups.list()
    assert str(caught.value) == "POST %s: unexpected answer: groups[2].%s, expected a string" % (GROUPS, what)
