# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
ROS parameters for a simulated world: ``world`` picks it, one parameter per config field.

``world`` (``overhead`` | ``first_person``) selects the world from
:mod:`vla_fusion_ros.sim.registry`; every field of that world's config dataclass becomes a
read-only parameter of the same name, with the description and the range or choices below, and
the dataclass validates the values (its message names the field, and becomes the parameter's).
"""

import dataclasses
from typing import Tuple

from vla_fusion_ros.ros.params import ParameterError, ParameterSet
from vla_fusion_ros.sim.base import BaseWorldConfig, DISTRACTOR_RULES, INSTRUCTION_MODES
from vla_fusion_ros.sim.registry import make_config, world_types, WORLDS

#: Descriptions and rules of the parameters that mirror world config fields.
WORLD_PARAMETERS = {
    'arena_size_m': ('Side of the square arena in metres.', None, (0.5, 100.0)),
    'num_objects': ('Objects in the scene: the target and its distractors.', None, (1, 11)),
    'object_radius_m': ('Contact footprint radius of an object in metres.', None, (0.01, 10.0)),
    'object_size_jitter': ('Object radii vary by this fraction, up and down.', None,
                           (0.0, 0.49)),
    'distractor_rule': ('compositional: distractors share the target colour or shape.',
                        DISTRACTOR_RULES, None),
    'absent_prob': ('Share of scenes whose named object is absent.', None, (0.0, 1.0)),
    'robot_radius_m': ('Radius of the robot in metres.', None, (0.01, 10.0)),
    'max_linear': ('Limit of |linear.x| in m/s; commands are clamped.', None, (0.01, 100.0)),
    'max_angular': ('Limit of |angular.z| in rad/s; commands are clamped.', None, (0.01, 100.0)),
    'dt': ('Simulated seconds per step.', None, (0.001, 10.0)),
    'substeps': ('Contact checks per step.', None, (1, 1000)),
    'max_steps': ('Step budget of an episode (then: timeout).', None, (1, 100000)),
    'min_start_distance_m': ('Least start distance to the target in metres.', None,
                             (0.0, 50.0)),
    'stop_linear': ('Stopped: |linear.x| at most this (m/s)...', None, (0.0, 10.0)),
    'stop_angular': ('... and |angular.z| at most this (rad/s)...', None, (0.0, 10.0)),
    'stop_steps': ('... for this many steps in a row.', None, (1, 1000)),
    'instruction_mode': ('templates: varied phrasing; canonical: "go to the <color> <shape>".',
                         INSTRUCTION_MODES, None),
    'image_size': ('Default side of the square image in pixels (see image_width).', None,
                   (16, 1024)),
    'view': ('Overhead world camera: overhead (whole arena) or egocentric (robot-centred).',
             ('overhead', 'egocentric'), None),
    'egocentric_extent_m': ('Side of the square the egocentric view shows, in metres.', None,
                            (0.1, 100.0)),
    'horizontal_fov_deg': ('First-person camera: horizontal field of view (4:3 frustum).',
                           None, (30.0, 150.0)),
    'camera_height_m': ('First-person camera: height above the floor.', None, (0.05, 2.0)),
    'camera_pitch_deg': ('First-person camera: pitch down from horizontal.', None,
                         (-30.0, 60.0)),
    'camera_forward_m': ('First-person camera: ahead of the robot centre.', None, (0.0, 10.0)),
    'visible_margin_deg': ("Expert: a target counts as seen this far inside the view's edge.",
                           None, (0.0, 75.0)),
    'light_jitter': ('Light strength varies by this fraction per scene.', None, (0.0, 0.99)),
    'tint_jitter': ('Floor and wall tints vary by this fraction per scene.', None,
                    (0.0, 0.99)),
}


def world_config_from_parameters(params: ParameterSet) -> Tuple[str, BaseWorldConfig]:
    """Declare ``world`` and one parameter per field of its config; return both."""
    name = params.declare('world', 'overhead', 'Which simulated world: overhead (drawn from '
                          'above) or first_person (MuJoCo, a camera on the robot).',
                          choices=WORLDS, read_only=True)
    values = {}
    for field in dataclasses.fields(world_types(name)[1]):
        description, choices, value_range = WORLD_PARAMETERS[field.name]
        values[field.name] = params.declare(field.name, field.default, description,
                                            choices=choices, value_range=value_range,
                                            read_only=True)
    try:
        return name, make_config(name, values)
    except ValueError as exc:  # the configs' messages start with the field's name
        field, _, problem = str(exc).partition(': ')
        raise ParameterError(f"parameter '{field}': {problem}") from None
