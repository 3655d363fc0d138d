# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options of every module (DOCUMENTATION) and plugin (PLUGIN, with env: entries).

Both are generated from plugins/module_utils/connection.py, where the options are defined once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.connection import doc_fragment


class ModuleDocFragment(object):
    DOCUMENTATION = doc_fragment(with_env=False)
    PLUGIN = doc_fragment(with_env=True)
