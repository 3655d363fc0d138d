# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Install .ci/get_pip_offline.py as ansible-test's cached get-pip script.

ansible-test downloads get-pip from ci-files.testing.ansible.com, unreachable here (docs/dev/testing.md,
Tooling pitfalls).

Usage: VENV/bin/python .ci/install_get_pip_shim.py
The pip version ansible-test bootstraps differs by core (24.2 for 2.19, 25.2 for 2.21); it is read from the
ansible_test package of the running interpreter, and the shim is copied to
~/.ansible/test/cache/get_pip_<version with _>.py, where ansible-test looks before downloading.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil

import ansible_test


def main():
    src = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(src) as f:
        match = re.search(r"pip=['\"]([0-9.]+)['\"]", f.read())
    if not match:
        raise SystemExit("cannot find the pip version in %s" % src)
    cache = os.path.join(os.path.expanduser("~"), ".ansible", "test", "cache")
    if not os.path.isdir(cache):
        os.makedirs(cache)
    dest = os.path.join(cache, "get_pip_%s.py" % match.group(1).replace(".", "_"))
    shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_offline.py"), dest)
    print("offline get-pip shim: %s" % dest)


if __name__ == "__main__":
    main()
