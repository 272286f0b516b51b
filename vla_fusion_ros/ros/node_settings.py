# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion node's parameters: one place declares them, validates them and converts them.

:func:`declare_fusion_parameters` turns ROS parameters (from ``config/fusion.yaml``, launch
arguments or ``--ros-args -p``) into a :class:`FusionSettings` dataclass. Every parameter has
a descriptor with its range or choices; every invalid value fails at start-up with an error
that names the parameter and lists what is valid. Parameters that need a model reload are
read-only.
"""

from dataclasses import dataclass
import os
from typing import List, Optional

from vla_fusion_ros.model.engines import BACKENDS, PRECISIONS
from vla_fusion_ros.model.fusion import FUSION_OPERATORS as OPERATOR_REGISTRY
from vla_fusion_ros.model.policy import DEVICES
from vla_fusion_ros.ros.params import ParameterError, ParameterSet
from vla_fusion_ros.ros.qos import RELIABILITY
from vla_fusion_ros.ros.runtime import EXECUTORS

OUTPUT_TYPES = ('twist', 'twist_stamped', 'float32_multi_array')
IMAGE_TRANSPORTS = ('raw', 'compressed')
#: The model's own choices (one source of truth): devices, inference engines, precisions.
INFERENCE_BACKENDS = BACKENDS
#: The fusion operators a user may pick: the model's registry, or '' to keep the model's own.
FUSION_OPERATORS = ('',) + tuple(OPERATOR_REGISTRY)


@dataclass
class FusionSettings:
    """Everything the fusion node needs from its parameters, validated."""

    checkpoint: str
    model_config: str
    fusion_operator: str
    fusion_layers: List[int]
    device: str
    threads: int
    inference_backend: str
    precision: str
    executor: str
    control_rate: float
    image_transport: str
    image_reliability: str
    image_depth: int
    max_image_age: float
    watchdog_timeout: float
    instruction: str
    max_instruction_length: int
    output_type: str
    frame_id: str
    max_linear: float
    max_angular: float
    action_min: List[float]
    action_max: List[float]
    chunk_decay: float
    debug_image: bool
    debug_image_rate: float
    diagnostics_rate: float

    @property
    def control_period(self) -> float:
        """Seconds between published commands when action chunks are queued."""
        return 1.0 / self.control_rate


def declare_fusion_parameters(node) -> FusionSettings:
    """Declare every fusion-node parameter on ``node`` and return the validated settings."""
    p = ParameterSet(node)
    s = FusionSettings(
        checkpoint=p.declare(
            'checkpoint', '', 'Path to a .safetensors checkpoint. Empty: the model shipped in '
            'the package share directory (or an untrained model from model_config, with a '
            'warning, if none is shipped).', read_only=True),
        model_config=p.declare(
            'model_config', '', 'YAML model config used when no checkpoint is loaded. Empty: '
            'config/model_default.yaml from the package.', read_only=True),
        fusion_operator=p.declare(
            'fusion_operator', '', 'Override the fusion operator of a config-built model '
            '(empty: keep the config/checkpoint value).', choices=FUSION_OPERATORS,
            read_only=True),
        fusion_layers=list(p.declare(
            'fusion_layers', [-1], 'Override the vision-layer indices where fusion happens '
            '([-1]: keep the config/checkpoint value).', read_only=True)),
        device=p.declare('device', 'cpu', 'Inference device.', choices=DEVICES,
                         read_only=True),
        threads=p.declare('threads', 1, 'torch intra-op threads for inference.',
                          value_range=(1, 256), read_only=True),
        inference_backend=p.declare(
            'inference_backend', 'auto', 'Inference engine, built and checked against eager '
            'PyTorch at start-up. auto: onnxruntime if installed, else torchscript (CPU); '
            'torch (eager) on CUDA.', choices=INFERENCE_BACKENDS, read_only=True),
        precision=p.declare('precision', 'fp32', 'fp16 halves the model (device cuda with '
                            'inference_backend torch only).', choices=PRECISIONS,
                            read_only=True),
        executor=p.declare(
            'executor', 'events', 'rclpy executor: events (EventsExecutor: Jazzy and newer, '
            'SingleThreadedExecutor where it is missing), multi (MultiThreadedExecutor, 2 '
            'threads) or single.', choices=EXECUTORS, read_only=True),
        control_rate=p.declare(
            'control_rate', 30.0, 'Highest rate of inference (within 5.3 %: see '
            'vla_fusion_ros.ros.pacing) and, for action chunks, the rate at which queued '
            'actions are published (Hz).', value_range=(0.5, 1000.0),
            read_only=True),
        image_transport=p.declare(
            'image_transport', 'raw', 'raw: sensor_msgs/Image on ~/image_raw; compressed: '
            'sensor_msgs/CompressedImage on ~/image_raw/compressed.', choices=IMAGE_TRANSPORTS,
            read_only=True),
        image_reliability=p.declare('image_qos_reliability', 'best_effort',
                                    'QoS reliability of the image subscription.',
                                    choices=tuple(RELIABILITY), read_only=True),
        image_depth=p.declare('image_qos_depth', 1, 'QoS depth of the image subscription.',
                              value_range=(1, 100), read_only=True),
        max_image_age=p.declare(
            'max_image_age', 0.25, 'Frames older than this (header stamp to now, seconds) '
            'are never acted on.', value_range=(0.001, 10.0)),
        watchdog_timeout=p.declare(
            'watchdog_timeout', 0.5, 'When images or the instruction stop for longer than '
            'this (s), publish one zero command, then nothing until they return.',
            value_range=(0.01, 60.0)),
        instruction=p.declare(
            'instruction', '', 'Initial instruction (a message on ~/instruction replaces it).'),
        max_instruction_length=p.declare(
            'max_instruction_length', 512, 'Longer instructions are rejected (characters).',
            value_range=(1, 100000)),
        output_type=p.declare('output_type', 'twist', 'Message type published on cmd_vel.',
                              choices=OUTPUT_TYPES, read_only=True),
        frame_id=p.declare('frame_id', 'base_link', 'frame_id of TwistStamped commands.'),
        max_linear=p.declare('max_linear', 0.5, 'Limit on |linear.x| in m/s (Twist outputs).',
                             value_range=(0.0, 100.0)),
        max_angular=p.declare('max_angular', 1.5,
                              'Limit on |angular.z| in rad/s (Twist outputs).',
                              value_range=(0.0, 100.0)),
        action_min=list(p.declare(
            'action_min', [0.0], 'Per-dimension lower limits for float32_multi_array output '
            '([0.0]: use -max_linear, -max_angular).')),
        action_max=list(p.declare(
            'action_max', [0.0], 'Per-dimension upper limits for float32_multi_array output '
            '([0.0]: use max_linear, max_angular).')),
        chunk_decay=p.declare(
            'chunk_decay', 2.0, 'Blending of overlapping action chunks: weight '
            'exp(-decay * age_s). 0 averages all equally.', value_range=(0.0, 1000.0)),
        debug_image=p.declare('debug_image', False,
                              'Publish ~/debug_image: the frame with fusion attention.'),
        debug_image_rate=p.declare('debug_image_rate', 5.0, 'Max debug image rate (Hz).',
                                   value_range=(0.1, 100.0)),
        diagnostics_rate=p.declare('diagnostics_rate', 1.0, '/diagnostics rate (Hz).',
                                   value_range=(0.1, 100.0), read_only=True),
    )
    if len(s.action_min) != len(s.action_max):
        raise ParameterError(
            f"parameter 'action_min'/'action_max': lengths differ ({len(s.action_min)} vs "
            f'{len(s.action_max)})')
    if s.checkpoint and not os.path.isfile(s.checkpoint):
        raise ParameterError(f"parameter 'checkpoint': file not found: {s.checkpoint}")
    if s.model_config and not os.path.isfile(s.model_config):
        raise ParameterError(f"parameter 'model_config': file not found: {s.model_config}")
    if s.precision == 'fp16' and s.device == 'cpu':
        raise ParameterError("parameter 'precision': fp16 needs device cuda (valid on cpu: fp32)")
    node.executor_kind = s.executor  # read by runtime.run_node when it builds the executor
    return s


def layer_override(settings: FusionSettings) -> Optional[List[int]]:
    """Return the fusion-layer override, or ``None`` to keep the model's value."""
    if settings.fusion_layers == [-1]:
        return None
    return [int(v) for v in settings.fusion_layers]
