# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS 2 adapters: nodes, message conversion, parameters, QoS and safety."""
