# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Fusion model: encoders, fusion operators, heads, config and checkpoints (pure PyTorch)."""
