# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for get-pip.py, and its installer: no tool has one, and ansible-test cannot run without it here.

ansible-test creates its venvs without pip and downloads get-pip.py from ci-files.testing.ansible.com, which these
machines cannot reach; it first looks for ~/.ansible/test/cache/get_pip_<version>.py.
``VENV/bin/python .ci/get_pip_offline.py --install`` (the Makefile, for each venv) copies this file there, the pip
version read from that venv's ansible_test (24.2 for core 2.19, 25.2 for 2.21). ansible-test then runs it as
``python get_pip_X_Y.py <pip install args>``: pip from ensurepip, then the pinned pip it asked for, from PyPI.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import sys


def install():
    import ansible_test  # only the venv running --install has it; ansible-test's venvs run main()

    src = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(src) as f:
        match = re.search(r"pip=['\"]([0-9.]+)['\"]", f.read())
    if not match:
        raise SystemExit("cannot find the pip version in %s" % src)
    cache = os.path.join(os.path.expanduser("~"), ".ansible", "test", "cache")
    if not os.path.isdir(cache):
        os.makedirs(cache)
    shutil.copyfile(os.path.abspath(__file__), os.path.join(cache, "get_pip_%s.py" % match.group(1).replace(".", "_")))


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args)


if __name__ == "__main__":
    if sys.argv[1:] == ["--install"]:
        install()
    else:
        main()
