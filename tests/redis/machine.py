# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One "machine" of the shared-budget tests: lists devices with the connection options given as JSON (argv[1]) and
prints ``{"devices", "metrics", "warnings"}`` as JSON. Its state directory is its own ``TMPDIR``."""

from __future__ import absolute_import, division, print_function

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

import inprocess  # noqa: E402,F401  pylint: disable=unused-import  # puts the collection under test on sys.path

from ansible_collections.opswat.it_access.plugins.module_utils.client import Client  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.connection import config_from_params  # noqa: E402


def main():
    options = json.loads(sys.argv[1])
    max_devices = options.pop("max_devices")
    warnings = []
    with Client(config_from_params(options), warn=warnings.append) as client:
        devices = len(list(client.devices.list(max_devices=max_devices)))
        print(json.dumps(dict(devices=devices, metrics=client.metrics, warnings=warnings)))


if __name__ == "__main__":
    main()
