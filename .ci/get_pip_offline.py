# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for get-pip.py.

ansible-test creates its venvs ``--without-pip`` and downloads ``get-pip.py`` from a host that is not
reachable here. It first looks in ``~/.ansible/test/cache/get_pip_<version>.py``; the Makefile copies this
file there. ansible-test runs it as ``python get_pip_X_Y.py <pip install args>``: bootstrap pip with
ensurepip, then install the pinned pip it asked for from PyPI.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args)


if __name__ == "__main__":
    main()
