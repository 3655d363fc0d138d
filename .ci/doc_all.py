# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run ansible-doc on every plugin and role of an installed collection.

Usage: python .ci/doc_all.py COLLECTIONS_DIR NAMESPACE.NAME

COLLECTIONS_DIR holds ansible_collections/NAMESPACE/NAME (an ``ansible-galaxy collection install -p`` target).
Plugins are found both from the files (plugins/modules/*.py, plugins/inventory/*.py, ...: a plugin whose
documentation is broken is missing from ansible-doc's own list) and from ``ansible-doc -t TYPE -l``; roles from
``ansible-doc -t role -l`` (roles with an argument spec). A plugin fails when ansible-doc exits non-zero, prints
nothing, or prints a warning or an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

# plugins/<dir> -> ansible-doc type. Filter and test plugins are listed by ansible-doc only (one file may hold
# several, each documented in a YAML file).
FILE_TYPES = {
    "modules": "module", "inventory": "inventory", "lookup": "lookup", "callback": "callback",
    "connection": "connection", "become": "become", "cache": "cache", "httpapi": "httpapi",
    "cliconf": "cliconf", "netconf": "netconf", "shell": "shell", "strategy": "strategy", "vars": "vars",
}
# Warnings that ansible-doc prints about ansible-core itself, not about the collection.
BENIGN_WARNINGS = [
    # core 2.21 'ansible-doc -t role' scans its internal _protomatter collection, which has no version
    re.compile(r"ansible/_protomatter' does not have a MANIFEST\.json file"),
]
LIST_DIRS = dict(FILE_TYPES, filter="filter", test="test")  # plugins/<dir> whose plugins ansible-doc lists


def run(args, env):
    proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def complaints(err):
    """The lines of ansible-doc's stderr that are errors or warnings about the collection."""
    found = []
    for line in err.splitlines():
        if ("WARNING" in line or "ERROR" in line) and not any(b.search(line) for b in BENIGN_WARNINGS):
            found.append(line)
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: doc_all.py COLLECTIONS_DIR NAMESPACE.NAME")
    root, fqcn = os.path.abspath(sys.argv[1]), sys.argv[2]
    ns, name = fqcn.split(".")
    coll = os.path.join(root, "ansible_collections", ns, name)
    if not os.path.isdir(coll):
        sys.exit("no collection at %s" % coll)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="true")

    names = {}  # type -> set of short names
    for folder, ptype in FILE_TYPES.items():
        pdir = os.path.join(coll, "plugins", folder)
        if os.path.isdir(pdir):
            for dirpath, _dirs, files in os.walk(pdir):
                for f in files:
                    if f.endswith(".py") and f != "__init__.py":
                        rel = os.path.relpath(os.path.join(dirpath, f[:-3]), pdir)
                        names.setdefault(ptype, set()).add(rel.replace(os.sep, "."))
    # Ask ansible-doc for its list only where there is something to list (each call costs about a second).
    list_types = sorted(set(t for d, t in LIST_DIRS.items() if os.path.isdir(os.path.join(coll, "plugins", d))))
    if os.path.isdir(os.path.join(coll, "roles")):
        list_types.append("role")
    problems = []
    for ptype in list_types:
        rc, out, err = run(["ansible-doc", "-t", ptype, "--list", "--json", fqcn], env)
        if rc != 0:
            problems.append("ansible-doc -t %s --list %s: exit %d\n%s" % (ptype, fqcn, rc, err.strip()))
            continue
        if complaints(err):
            problems.append("ansible-doc -t %s --list %s printed:\n%s" % (ptype, fqcn, err.strip()))
        for full in json.loads(out or "{}"):
            names.setdefault(ptype, set()).add(full[len(fqcn) + 1:] if full.startswith(fqcn + ".") else full)

    checked = 0
    for ptype in sorted(names):
        for short in sorted(names[ptype]):
            full = "%s.%s" % (fqcn, short)
            rc, out, err = run(["ansible-doc", "-t", ptype, full], env)
            checked += 1
            bad = rc != 0 or not out.strip() or complaints(err)
            print("  %-9s %-45s %s" % (ptype, full, "FAILED" if bad else "ok"))
            if bad:
                problems.append("ansible-doc -t %s %s: exit %d\n%s" % (ptype, full, rc, err.strip()))
    print("ansible-doc checked %d plugins/roles of %s" % (checked, fqcn))
    if problems:
        print("\n".join(["", "Problems:"] + problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
