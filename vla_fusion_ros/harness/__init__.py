# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The package's nodes as real processes, and the probes that watch them: one library.

Used by the tools (demo, graph, benchmark, faults, fuzz, soak), by training's ROS evaluation
and by the tests, so each of these things exists once:

- :mod:`.executables`: find an installed executable (ament index, this checkout's colcon
  install tree, ``PATH``) and the installed share files;
- :mod:`.ros_args`: format parameters and remappings for ``--ros-args``;
- :mod:`.environment`: DDS isolation for a process tree (on :mod:`vla_fusion_ros.ros.dds`);
- :mod:`.process`: :class:`~.process.NodeProcess`, one node as a process (log file, signals,
  pause/resume, RSS and CPU);
- :mod:`.graph`: :class:`~.graph.NodeSpec` and :class:`~.graph.Graph`, several nodes at once;
- :mod:`.probe`: :class:`~.probe.Probe`, an rclpy node of the calling process that records
  commands, images and ``/diagnostics`` and publishes instructions and images;
- :mod:`.records`: what the probe records (:class:`~.records.CommandLog`,
  :class:`~.records.ImageLog`) and the command check against the limits;
- :mod:`.diagnostics`: the one ``/diagnostics`` parser, on the key names of
  :mod:`vla_fusion_ros.ros.diagnostic_keys`;
- :mod:`.instruction_publisher`: a latched instruction publisher run as its own process.

The layering: ``harness`` stands on ``ros`` (and ``model``/``sim``), ``train`` and ``tools``
stand on ``harness``; ``ros``, ``model`` and ``sim`` never import it.
"""
