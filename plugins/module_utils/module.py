# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place where a module meets the client.

``run_module`` builds the ``AnsibleModule`` from the module's own options plus the shared connection options,
creates the client (registering every secret it learns as a no_log value), calls the module's
``run(module, client)``, adds ``api_requests`` and maps every typed error to ``fail_json``. ``run`` returns the
result dict; a result with ``failed=True`` and ``msg`` fails the task while still returning every other key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.opswat.it_access.plugins.module_utils import connection
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.errors import OpswatError
from ansible_collections.opswat.it_access.plugins.module_utils.options import reject_boolean_integers
from ansible_collections.opswat.it_access.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def run_module(run, module_options, **spec_rules):
    """Run a module. ``spec_rules`` are AnsibleModule's rule keywords (mutually_exclusive, required_if...)."""
    argument_spec = connection.argument_spec()
    argument_spec.update(module_options)
    from_environment = connection.new_environment_record()
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **spec_rules)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    client = None
    try:
        reject_boolean_integers(argument_spec, module.params)
        config = connection.config_from_params(module.params, sources=from_environment.sources,
                                               unreadable=from_environment.unreadable)
        for warning in config.warnings:
            module.warn(warning)
        client = Client(config, on_secret=module.no_log_values.add, warn=module.warn)
        result = run(module, client)
        result["api_requests"] = client.metrics
    except OpswatError as error:
        failure = error.to_fail_json()
        if client is not None:
            failure["api_requests"] = client.metrics
        module.fail_json(**failure)
    finally:
        if client is not None:
            client.close()
    if result.pop("failed", False):
        # A module that reports every item and then fails (opswat_device_action's partial failure) says so here.
        module.fail_json(**result)
    module.exit_json(**result)
