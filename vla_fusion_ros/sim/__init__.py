# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Simulation: synthetic scenes for the camera and the 2D world (numpy and OpenCV)."""
