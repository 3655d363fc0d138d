# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An api_url with a path: messages show the path that was requested, and say what to fix."""

from __future__ import absolute_import, division, print_function

from conftest import STATIC_TOKEN, connection_vars


def test_a_token_request_under_a_path_names_that_path_and_the_fix(simulator, run_module):
    result = run_module("group_info", connection=connection_vars(simulator, api_url=simulator.url + "/o/api/"))
    assert result.failed
    requested = [entry["path"] for entry in simulator.request_log()]
    assert requested == ["/o/api/o/oauth/token"]
    assert "POST /o/api/o/oauth/token failed: HTTP 404" in result.msg, result.msg
    assert "api_url has a path (/o/api)" in result.msg and "give api_url without it, for example %s" % simulator.url \
        in result.msg, result.msg


def test_an_api_request_under_a_path_names_that_path(simulator, run_module):
    connection = connection_vars(simulator, api_url=simulator.url + "/proxy", client_id=None, client_secret=None,
                                 access_token=STATIC_TOKEN)
    result = run_module("device_info", connection=connection, max_devices=1)
    assert result.failed
    assert [entry["path"] for entry in simulator.request_log()] == ["/proxy/o/api/v3.7/devices"]
    assert "POST /proxy/o/api/v3.7/devices failed: HTTP 404" in result.msg, result.msg
    assert "api_url has a path (/proxy)" in result.msg
