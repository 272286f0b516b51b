# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Command-line tools: the demo, benchmarks, fuzzing and soak runs."""
