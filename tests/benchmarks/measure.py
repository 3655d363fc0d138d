# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Usage: python -S measure.py RESULT.json COMMAND [ARGS...]

Runs COMMAND, waits for it with ``os.wait4`` and writes its exit code, wall time, CPU time and peak RSS to
RESULT.json. The usage covers COMMAND and every process it started and waited for; the peak RSS is that of the
largest single process among them.

Why a launcher of its own: Linux charges a child with the peak RSS of the memory it had before ``exec``, which
after Python's ``vfork`` is its parent's. Started from the benchmark harness (which holds the simulator's fleet,
hundreds of MB for 50,000 devices), every command would report at least the harness's size. This small process
(about 9 MB with ``-S``) is the parent instead.
"""

import json
import os
import sys
import time


def main():
    result_path, command = sys.argv[1], sys.argv[2:]
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child becomes COMMAND
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)  # pylint: disable=protected-access
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(dict(returncode=code, wall=wall, user=usage.ru_utime, system=usage.ru_stime,
                       peak_rss_kib=usage.ru_maxrss), handle)
    return code


if __name__ == "__main__":
    sys.exit(main())
