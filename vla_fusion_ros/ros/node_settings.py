# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion node's parameters: one place declares them, validates them and converts them.

:func:`declare_fusion_parameters` turns ROS parameters (from ``config/fusion.yaml``, launch
arguments or ``--ros-args -p``) into a :class:`FusionSettings` dataclass. Every parameter has
a descriptor with its range or choices; every invalid value fails at start-up with an error
that names the parameter and lists what is valid. A key in the node's own section of a params
file that names no parameter (a typo such as ``max_linaer``) also stops the start-up: see
:mod:`vla_fusion_ros.ros.params_file`.

Run time (``ros2 param set``): the parameters in :data:`LIVE_PARAMETERS` are applied at once,
limits included, through the ``on_change`` hook of :func:`declare_fusion_parameters`; every
other parameter is read-only (it needs a model reload or new topics), so a set is refused
with that reason instead of being accepted and ignored.
"""

import dataclasses
from dataclasses import dataclass
import os
from typing import Callable, List, Optional, Set

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

#: Parameters a running node applies when they are set (each is a FusionSettings field of the
#: same name); all others are read-only.
LIVE_PARAMETERS = ('max_image_age', 'expected_image_rate', 'accept_mono', 'watchdog_timeout',
                   'instruction', 'max_instruction_length', 'frame_id', 'max_linear',
                   'max_angular', 'action_min', 'action_max', 'chunk_decay', 'debug_image_rate')


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
    expected_image_rate: float
    accept_mono: bool
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


def declare_fusion_parameters(
        node, on_change: Optional[Callable[[FusionSettings, Set[str]], None]] = None
) -> FusionSettings:
    """
    Declare every fusion-node parameter on ``node`` and return the validated settings.

    At run time a set of :data:`LIVE_PARAMETERS` is checked by the same rules, then passed to
    ``on_change(new_settings, changed_names)``, which applies it or raises
    :class:`ParameterError` to refuse it; once it returns, the returned settings object is
    updated in place.
    """
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
        expected_image_rate=p.declare(
            'expected_image_rate', 0.0, 'Frame rate of the camera (Hz), against which gaps in '
            'the image header stamps count as lost frames (WARN on /diagnostics). 0: measured '
            'from the stamps (right while fewer than 3 frames in 4 are lost).',
            value_range=(0.0, 1000.0)),
        accept_mono=p.declare(
            'accept_mono', False, 'Act on mono8/mono16 images (grey copied to R, G and B). '
            'false: a model trained on colour refuses them: ERROR on /diagnostics, no motion.'),
        watchdog_timeout=p.declare(
            'watchdog_timeout', 0.5, 'When images or the instruction stop for longer than '
            'this (s), publish one zero command, then nothing until they return.',
            value_range=(0.01, 60.0)),
        instruction=p.declare(
            'instruction', '', 'Instruction to follow; a message on ~/instruction replaces it. '
            'Set at run time it replaces the current one as a message would; "" clears it '
            '(the robot stops).'),
        max_instruction_length=p.declare(
            'max_instruction_length', 512, 'Longer instructions are rejected (characters; '
            'a change applies to the instructions that follow it).',
            value_range=(1, 100000)),
        output_type=p.declare('output_type', 'twist', 'Message type published on cmd_vel.',
                              choices=OUTPUT_TYPES, read_only=True),
        frame_id=p.declare('frame_id', 'base_link', 'frame_id of TwistStamped commands.'),
        max_linear=p.declare('max_linear', 0.5, 'Limit on |linear.x| in m/s (and on the '
                             'linear_x dimension of float32_multi_array output when action_min '
                             'and action_max are [0.0]). Applies at once when set.',
                             value_range=(0.0, 100.0)),
        max_angular=p.declare('max_angular', 1.5, 'Limit on |angular.z| in rad/s (and on the '
                              'angular_z dimension of float32_multi_array output when '
                              'action_min and action_max are [0.0]). Applies at once when set.',
                              value_range=(0.0, 100.0)),
        action_min=list(p.declare(
            'action_min', [0.0], 'Per-dimension lower limits for float32_multi_array output '
            '([0.0]: -max_linear for linear_x, -max_angular for angular_z, minus the '
            "model's action_scale for any other dimension).")),
        action_max=list(p.declare(
            'action_max', [0.0], 'Per-dimension upper limits for float32_multi_array output '
            "([0.0]: max_linear for linear_x, max_angular for angular_z, the model's "
            'action_scale for any other dimension).')),
        chunk_decay=p.declare(
            'chunk_decay', 2.0, 'Blending of overlapping action chunks: weight '
            'exp(-decay * age_s). 0 averages all equally.', value_range=(0.0, 1000.0)),
        debug_image=p.declare('debug_image', False,
                              'Publish ~/debug_image: the frame with fusion attention.',
                              read_only=True),
        debug_image_rate=p.declare('debug_image_rate', 5.0, 'Max debug image rate (Hz).',
                                   value_range=(0.1, 100.0)),
        diagnostics_rate=p.declare('diagnostics_rate', 1.0, '/diagnostics rate (Hz).',
                                   value_range=(0.1, 100.0), read_only=True),
    )
    check_settings(s)
    layers = s.fusion_layers
    if layers != [-1]:
        if any(i < 0 for i in layers):
            raise ParameterError(f"parameter 'fusion_layers': {layers} has a negative index "
                                 "(valid: [-1] to keep the model's layers, or indices >= 0)")
        duplicates = sorted({i for i in layers if layers.count(i) > 1})
        if duplicates:
            raise ParameterError(f"parameter 'fusion_layers': {layers} names layer "
                                 f'{", ".join(map(str, duplicates))} twice (duplicate indices)')
    if s.checkpoint and not os.path.isfile(s.checkpoint):
        raise ParameterError(f"parameter 'checkpoint': file not found: {s.checkpoint}")
    if s.model_config and not os.path.isfile(s.model_config):
        raise ParameterError(f"parameter 'model_config': file not found: {s.model_config}")
    if s.precision == 'fp16' and s.device == 'cpu':
        raise ParameterError("parameter 'precision': fp16 needs device cuda (valid on cpu: fp32)")
    node.executor_kind = s.executor  # read by runtime.run_node when it builds the executor

    def apply(changes) -> None:
        unknown = set(changes) - set(LIVE_PARAMETERS)
        if unknown:   # a read-only parameter never gets here (rclpy refuses it first)
            raise ParameterError(f'parameter {sorted(unknown)[0]!r}: cannot change at run time')
        new = dataclasses.replace(s, **changes)
        check_settings(new)
        if on_change is not None:
            on_change(new, set(changes))
        for name in changes:
            setattr(s, name, getattr(new, name))
    p.on_change = apply
    # Unknown keys in the node's own params-file section stop it: refused, not warned, as a
    # typo in a limit (max_linaer) leaves the default in force while the operator believes
    # the file's value. The section names this node, so every key in it is meant for it;
    # keys shared by several nodes go in wildcard sections, which are not checked.
    p.finish()
    return s


def check_settings(s: FusionSettings) -> None:
    """Check the rules that join several parameters; raise :class:`ParameterError`."""
    derived = [0.0]   # the side follows max_linear/max_angular (see command_output)
    if (s.action_min != derived and s.action_max != derived
            and len(s.action_min) != len(s.action_max)):
        raise ParameterError(
            f"parameter 'action_min'/'action_max': lengths differ ({len(s.action_min)} vs "
            f'{len(s.action_max)})')


def layer_override(settings: FusionSettings) -> Optional[List[int]]:
    """Return the fusion-layer override (sorted), or ``None`` to keep the model's value."""
    if settings.fusion_layers == [-1]:
        return None
    return sorted(int(v) for v in settings.fusion_layers)
