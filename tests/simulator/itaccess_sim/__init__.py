# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A local simulator of the OPSWAT MetaDefender IT Access cloud API, for the collection's tests.

``Simulator`` serves the documented endpoints over real HTTP(S) on loopback, with a deterministic fleet,
rate limiting, fault injection and a request log. See docs/simulator.md.
"""

from .simulator import Simulator

__all__ = ["Simulator"]
