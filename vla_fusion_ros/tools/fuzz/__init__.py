# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Property-based fuzzing of the fusion node's input path, over DDS, with hypothesis.

    python -m vla_fusion_ros.tools.fuzz --cases 10000 [--seed 0] [--out results/reliability]

Two ``fusion_node`` processes run from the install tree: one takes ``sensor_msgs/Image``, the
other ``sensor_msgs/CompressedImage`` (``image_transport:=compressed``). Hypothesis generates
the cases, interleaved with valid ones:

- images with fuzzed encoding, width, height, step, data length, ``is_bigendian`` and stamp:
  zero sizes, declared sizes up to 2^32 - 1 (the data stays below 8 MB: DDS carries it),
  steps too short or not a multiple of the pixel size, padded rows, extreme aspect ratios;
- instructions: empty, up to 1,000,000 characters, any Unicode, control characters, NUL;
- compressed images: valid JPEG and PNG, truncated, corrupted, random bytes, other formats,
  and "decompression bombs" (a few bytes declaring a huge image).

A probe checks every command the nodes publish (finite and within the limits) and compares
the nodes' ``/diagnostics`` counters with what was sent: each malformed input must appear in
``frames_rejected`` or ``instructions_rejected``. The image subscriptions are reliable with
depth 100 (a QoS override) and the probe waits for the counters between batches, so the
counts are exact. The results go to ``fuzz.md`` and ``fuzz.json``.

Modules: :mod:`.cases` (the cases and their oracles), :mod:`.strategies` (hypothesis),
:mod:`.target` (one node under fuzzing), :mod:`.run` (the run), :mod:`.report` (fuzz.md).
"""
