# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nox sessions of antsibull-nox.toml (lint, docs-check, extra-checks, build-import-check); the Makefile runs them."""

import nox

import antsibull_nox

antsibull_nox.load_antsibull_nox_toml()

if __name__ == "__main__":
    nox.main()
