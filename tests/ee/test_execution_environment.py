# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection in an execution environment: ansible-builder finds its Python requirements and makes a build context.

Building the image needs a container engine, which these machines do not have; the context is what a user's
engine builds, so it is checked instead.
"""

from __future__ import absolute_import, division, print_function

import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run(*command, **kwargs):
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               check=False, **kwargs)
    assert completed.returncode == 0, completed.stdout
    return completed.stdout


def build_tarball(destination):
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(destination), ROOT,
        cwd=str(destination))
    tarballs = [name for name in os.listdir(str(destination)) if name.startswith("opswat-it_access-")]
    assert len(tarballs) == 1
    return os.path.join(str(destination), tarballs[0])


def test_introspection_finds_the_python_requirements(tmp_path):
    tarball = build_tarball(tmp_path)
    collections = tmp_path / "collections"
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(collections), tarball,
        cwd=str(tmp_path))
    output = run(os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", str(collections))
    data = yaml.safe_load(output[output.index("python:"):]) if "python:" in output else {}
    requirements = " ".join(data.get("python") or [])
    assert "requests" in requirements and "opswat.it_access" in requirements, output
    assert "cryptography" in requirements, output  # the token cache's
    assert "redis" in requirements, output  # rate_limit_store


def test_create_makes_a_build_context_with_the_collection(tmp_path):
    tarball = build_tarball(tmp_path)
    definition = tmp_path / "ee"
    shutil.copytree(os.path.join(ROOT, "tests", "ee"), str(definition),
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copy(tarball, str(definition / "opswat-it_access.tar.gz"))
    context = tmp_path / "context"
    run(os.path.join(BIN, "ansible-builder"), "create", "-f", str(definition / "execution-environment.yml"),
        "-c", str(context), "--output-filename", "Containerfile", cwd=str(definition))

    assert (context / "Containerfile").is_file()
    assert (context / "_build" / "collections" / "opswat-it_access.tar.gz").is_file()
    with open(str(context / "_build" / "requirements.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["collections"][0]["name"].endswith("opswat-it_access.tar.gz")
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy" in containerfile and "ansible-core>=2.19.14" in containerfile
