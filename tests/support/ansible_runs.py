# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ``ansible-playbook`` and ``ansible-inventory`` runs for the functional and reliability suites.

Every run gets a clean environment (no stray ``OPSWAT_*``, no colour, a private local temp) and its whole output,
and whatever it returns, is searched for ``secrets`` (a list of strings, or a callable returning one, called after
the run so that tokens issued during the run count): a test fails on the first leak.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys
import time

BIN = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN, "ansible-playbook")
ANSIBLE_INVENTORY = os.path.join(BIN, "ansible-inventory")


class CommandRun(object):
    def __init__(self, returncode, output, seconds):
        self.returncode = returncode
        self.output = output
        self.seconds = seconds


def cli_environment(tmp_path, env=None):
    """The environment of a real ansible run: no stray OPSWAT_*, no colour, a private local temp."""
    run_env = dict((name, value) for name, value in os.environ.items() if not name.startswith("OPSWAT_"))
    run_env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_HOST_KEY_CHECKING="0",
                   ANSIBLE_DEPRECATION_WARNINGS="0")
    run_env.update(env or {})
    return run_env


def found_secrets(text, secrets):
    """The secrets (a list, or a callable returning one) that appear in ``text`` (a string or any JSON-able value)."""
    if not isinstance(text, str):
        text = json.dumps(text, default=str)
    values = secrets() if callable(secrets) else secrets
    return [secret for secret in values if secret and secret in text]


def run_command(command, tmp_path, secrets, env=None, cwd=None, timeout=600):
    """Run ``command`` (stdout and stderr together); its output must hold none of ``secrets``."""
    started = time.monotonic()
    completed = subprocess.run(command, env=cli_environment(tmp_path, env), cwd=str(cwd or tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=timeout, check=False)
    assert not found_secrets(completed.stdout, secrets), \
        "secret(s) leaked into the output of %s" % os.path.basename(command[0])
    return CommandRun(completed.returncode, completed.stdout, time.monotonic() - started)


def _read_json(path, secrets, what):
    if not path.exists():
        return None
    raw = path.read_text()
    assert not found_secrets(raw, secrets), "secret(s) leaked into %s" % what
    return json.loads(raw)


def run_play(tmp_path, tasks, secrets, module_defaults=None, play_vars=None, check=False, diff=False, env=None,
             verbosity=4, name="test"):
    """One play on localhost running ``tasks``; returns ``(CommandRun, results)``.

    Each task's ``id`` (removed from the task) is the name it is registered and saved under; ``results[id]`` is
    that registered value. A task that has its own ``register`` is not saved, so that a test can hold a secret the
    user asked for (the license key) in a variable without tripping the leak check. ``module_defaults`` sets the
    connection through the collection's action group.
    """
    results_path = tmp_path / "results.json"
    if results_path.exists():
        results_path.unlink()
    ids = []
    play_tasks = []
    for task in tasks:
        task = dict(task)
        task_id = task.pop("id", None)
        if task_id is not None and "register" not in task:
            ids.append(task_id)
            task["register"] = task_id
        play_tasks.append(task)
    dump = "{{ {%s} | to_json }}" % ", ".join("'%s': %s | default(None)" % (task_id, task_id) for task_id in ids)
    play_tasks.append({"name": "Save results", "check_mode": False, "diff": False,
                       "ansible.builtin.copy": dict(content=dump, dest=str(results_path), mode="0600")})
    play = dict(name=name, hosts="localhost", gather_facts=False, tasks=play_tasks, vars=play_vars or {})
    if module_defaults is not None:
        play["module_defaults"] = {"group/opswat.it_access.it_access": module_defaults}
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([play]))
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
               str(playbook)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    run = run_command(command, tmp_path, secrets, env=env)
    return run, _read_json(results_path, secrets, "a returned value") or {}


def run_inventory(tmp_path, sources, secrets, args=("--list",), env=None, verbosity=4, cwd=None):
    """``ansible-inventory -i SOURCE... ARGS`` over ``sources`` ({file name: config dict or YAML text}).

    Returns ``(CommandRun, data)``: with ``--list`` in ``args``, ``data`` is the inventory JSON (else None).
    """
    command = [ANSIBLE_INVENTORY]
    for file_name, source in sources.items():
        path = tmp_path / file_name
        path.write_text(source if isinstance(source, str) else json.dumps(source))
        command += ["-i", str(path)]
    command += list(args)
    output_path = tmp_path / "inventory.json"
    if output_path.exists():
        output_path.unlink()
    if "--list" in args:
        command += ["--output", str(output_path)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    run = run_command(command, tmp_path, secrets, env=env, cwd=cwd)
    return run, _read_json(output_path, secrets, "the inventory")


def plain(value):
    """An ``ansible-inventory --list`` value without the markers of unsafe values (2.19+ writes them)."""
    if isinstance(value, dict):
        if set(value) == set(["__ansible_unsafe"]):
            return plain(value["__ansible_unsafe"])
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
