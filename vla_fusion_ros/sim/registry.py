# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The worlds by name: ``overhead`` and ``first_person`` share one interface.

Every world has ``reset(seed)``, ``step(action) -> StepResult`` (with a termination
``reason``), ``render(width, height)`` at any camera resolution, ``target`` (``None`` when the
named object is absent), ``instruction``, ``report()`` and a config dataclass; the expert
(:class:`~vla_fusion_ros.sim.expert.ExpertPolicy`) acts in either. Everything that takes a
world (``sim_world``, ``sim_camera``, the dataset, the evaluators, the demo) takes its name once
and calls :func:`make_world`.
"""

import dataclasses
from typing import Any, Dict, Optional, Tuple, Type

from vla_fusion_ros.sim.base import BaseWorld, BaseWorldConfig

WORLDS: Tuple[str, ...] = ('overhead', 'first_person')


def world_types(name: str) -> Tuple[Type[BaseWorld], Type[BaseWorldConfig]]:
    """Return ``(world class, config class)`` for a world's name (imports lazily)."""
    if name == 'overhead':
        from vla_fusion_ros.sim.world import World, WorldConfig
        return World, WorldConfig
    if name == 'first_person':
        from vla_fusion_ros.sim.first_person import FirstPersonConfig, FirstPersonWorld
        return FirstPersonWorld, FirstPersonConfig
    raise ValueError(f'world: unknown {name!r} (valid: {", ".join(WORLDS)})')


def make_config(name: str, overrides: Optional[Dict[str, Any]] = None) -> BaseWorldConfig:
    """Return the config of world ``name`` with ``overrides`` (unknown fields fail by name)."""
    _, config_type = world_types(name)
    fields = {f.name for f in dataclasses.fields(config_type)}
    unknown = sorted(set(overrides or {}) - fields)
    if unknown:
        raise ValueError(f'{unknown[0]}: not a field of the {name} world (valid: '
                         f'{", ".join(sorted(fields))})')
    return config_type(**(overrides or {}))


def make_world(name: str = 'overhead', config: Optional[BaseWorldConfig] = None,
               **overrides) -> BaseWorld:
    """Return a world by name, from ``config`` or from its default config and ``overrides``."""
    world_type, config_type = world_types(name)
    if config is None:
        config = make_config(name, overrides)
    elif not isinstance(config, config_type):
        raise ValueError(f'world: a {type(config).__name__} does not configure the {name} '
                         f'world (expected {config_type.__name__})')
    return world_type(config)


def world_name_of(config: BaseWorldConfig) -> str:
    """Return the registry name of the world a config belongs to."""
    for name in WORLDS:
        if isinstance(config, world_types(name)[1]):
            return name
    raise ValueError(f'world: {type(config).__name__} is not a registered world config')


def parse_size(text: str) -> Tuple[int, int]:
    """Parse ``'640x480'`` (or ``'64'``) into ``(width, height)``."""
    parts = str(text).lower().split('x')
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 8:
        raise ValueError(f'render size: expected WIDTHxHEIGHT (e.g. 640x480), got {text!r}')
    return (values[0], values[-1])
