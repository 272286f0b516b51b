# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Vision-language-action ROS 2 node with configurable intermediate fusion.

Four wings, imports pointing one way only:

- ``model``: the fusion model in pure PyTorch (no ROS).
- ``sim``: the simulated scene and world (numpy and OpenCV, no ROS).
- ``train``: datasets, training, evaluation and the fusion comparison.
- ``ros``: the only wing that imports rclpy; nodes are thin adapters over the other wings.
"""

__version__ = '0.1.0'
