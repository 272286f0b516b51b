# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What the tools record beside their figures: the commit and the machine's load."""

import os
import subprocess
from typing import List

from vla_fusion_ros.harness.executables import REPO


def load_samples() -> List[float]:
    """Return the 1, 5 and 15 minute load averages of this machine."""
    return [round(v, 2) for v in os.getloadavg()]


def git_commit() -> str:
    """Return the repository's HEAD commit (short), or '' outside a git checkout."""
    try:
        return subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''
