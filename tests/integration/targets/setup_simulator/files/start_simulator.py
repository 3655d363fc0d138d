# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start the API simulator for one integration target; it stops by itself when the target's run ends.

ansible-test runs each target as one ansible-playbook process. This script starts the simulator in the
background, and a watchdog that stops it as soon as that ansible-playbook process is gone (passed, failed,
interrupted or killed), or after ``--max-seconds`` at the latest. It prints ``{"url": ..., "pid": ...}`` once
the simulator listens. Usage: ``python start_simulator.py --log FILE [--max-seconds N] -- SIMULATOR ARGS``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

LISTENING = re.compile(r"itaccess-sim listening on (\S+)")
START_SECONDS = 30
POLL_SECONDS = 0.2


def simulator_directory():
    """tests/simulator of the collection under test: ANSIBLE_COLLECTIONS_PATH first, then this file's ancestors."""
    candidates = [os.path.join(entry, "ansible_collections", "opswat", "it_access")
                  for entry in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if entry]
    here = os.path.dirname(os.path.abspath(__file__))
    while os.path.dirname(here) != here:
        candidates.append(here)
        here = os.path.dirname(here)
    for root in candidates:
        path = os.path.join(root, "tests", "simulator")
        if os.path.isdir(os.path.join(path, "itaccess_sim")):
            return path
    sys.exit("start_simulator: no tests/simulator/itaccess_sim in ANSIBLE_COLLECTIONS_PATH or above %s" % __file__)


def _parent_and_command(pid):
    """(parent pid, argv) of a process, read from /proc; (None, []) where there is no /proc."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            argv = cmdline.read().decode("utf-8", "replace").split("\0")
    except (OSError, ValueError, IndexError):
        return None, []
    return parent, argv


def playbook_process():
    """The outermost ansible-playbook process above this one (its task workers are forks with the same argv)."""
    found = None
    pid = os.getppid()
    while pid and pid > 1:
        parent, argv = _parent_and_command(pid)
        if any(os.path.basename(arg) == "ansible-playbook" for arg in argv):
            found = pid
        pid = parent
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop(pid):
    if not alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    for _dummy in range(50):
        if not alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def watch(simulator_pid, playbook_pid, max_seconds):
    """The watchdog: stop the simulator when the playbook is gone or the time is up."""
    deadline = time.time() + max_seconds
    while alive(simulator_pid) and time.time() < deadline and (playbook_pid is None or alive(playbook_pid)):
        time.sleep(POLL_SECONDS)
    stop(simulator_pid)


def wait_for_url(process, log_path):
    deadline = time.time() + START_SECONDS
    while time.time() < deadline:
        with open(log_path) as log:
            match = LISTENING.search(log.read())
        if match:
            return match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop(process.pid)
    with open(log_path) as log:
        sys.exit("start_simulator: the simulator did not start:\n" + log.read())


def start(log_path, max_seconds, simulator_args):
    environment = dict(os.environ, PYTHONPATH=simulator_directory(), PYTHONDONTWRITEBYTECODE="1")
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        # A session of its own: the task that ran this script ends without waiting for the simulator.
        process = subprocess.Popen([sys.executable, "-u", "-m", "itaccess_sim", "--port", "0"] + simulator_args,
                                   stdin=devnull, stdout=log, stderr=subprocess.STDOUT, env=environment,
                                   start_new_session=True)
        playbook = playbook_process()
        subprocess.Popen([sys.executable, os.path.abspath(__file__), "--watch", str(process.pid),
                          str(playbook or 0), str(max_seconds)],
                         stdin=devnull, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = wait_for_url(process, log_path)
    print(json.dumps({"url": url, "pid": process.pid, "watched_playbook_pid": playbook}))


def main(argv):
    if argv[:1] == ["--watch"]:
        simulator_pid, playbook_pid, max_seconds = int(argv[1]), int(argv[2]), float(argv[3])
        watch(simulator_pid, playbook_pid or None, max_seconds)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="file the simulator writes its output to")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop the simulator after this long anyway")
    parser.add_argument("simulator_args", nargs="*", help="arguments of python -m itaccess_sim (after --)")
    args = parser.parse_args(argv)
    start(args.log, args.max_seconds, args.simulator_args)


if __name__ == "__main__":
    main(sys.argv[1:])
