# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fault injection in the fusion graph, run as real processes over DDS, with measured stop times.

    python -m vla_fusion_ros.tools.faults [--repeats 3] [--out results/reliability]

The graph: ``sim_camera`` (160x120 rgb8 at 30 Hz), ``fusion_node`` and a separate instruction
publisher process (a latched ``std_msgs/String``), each started from the colcon install tree,
plus a probe node in this process that records every command (and checks it: finite, within
the limits), ``/diagnostics`` and the camera's frame stamps. The faults:

- the camera stalls (SIGSTOP, then SIGCONT) and is killed and restarted (SIGKILL);
- the instruction publisher dies: cleanly (SIGTERM) and by a crash (SIGKILL), the latter with
  a short DDS participant lease (a Fast DDS profile) and, once, with Fast DDS's default lease;
- the fusion node crashes (SIGKILL) or is stopped (SIGINT) and a new one takes over from the
  latched instruction;
- a burst of malformed images among the camera's valid frames;
- the e-stop toggles quickly.

For every stall the time from the stall (the last frame's stamp, or the signal) to the explicit
zero command is measured; the bound is ``watchdog_timeout + 1 / camera rate``. The results go to
``faults.md`` and ``faults.json``.

Modules: :mod:`.graph` (the processes and the probe), :mod:`.scenarios` (one function per
fault), :mod:`.run` (the whole run, summarised), :mod:`.report` (faults.md).
"""
