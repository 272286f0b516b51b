# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The first-person world's renderer: one MuJoCo model, offscreen (EGL), reused for every scene.

Design (measured on the 2-core machine this package is developed on):

- **MuJoCo** (``mujoco`` on PyPI) renders offscreen through EGL; Mesa's software EGL works on
  machines without a GPU. ``MUJOCO_GL=egl`` is set before the first import (unless the user set
  another backend). Shadows and multisampling are off (``shadowsize = 0``, ``offsamples = 0``):
  with them a 64x64 frame took 64 ms, without 0.4 ms. mujoco is imported lazily, on the first
  render, so the fusion node (which never renders) does not need it.
- **One model for all scenes.** Compiling a model and making a GL context per scene costs tens
  of milliseconds; instead the model holds a slot for every colour-shape pair, and a scene only
  writes numbers into it (positions, yaws, sizes, which floor texture, light). Unused slots sit
  under the floor. The robot is a mocap body carrying the camera. One renderer per image size is
  kept per process and shared by every world (the in-process evaluator steps 100 worlds at once).
- **Shapes a camera tells apart**: circle -> sphere, square -> cube (yawed), triangle -> cone
  (a mesh; its silhouette is a triangle from every side). Sizes vary per scene: spheres and
  cubes through ``geom_size``, cones by choosing among ``CONE_SCALES`` meshes.
- **A camera with a fixed frustum.** The camera has a 4:3 sensor (90 degrees wide, 74 high)
  given by ``sensorsize`` and ``focal``, so MuJoCo draws the same view into any image size: a
  64x64 render is the 640x480 one squeezed. The node's preprocessing (an area resize to the
  model's square input) therefore sees the same picture whatever the camera's resolution.
- **Variety**: three floor textures (checker, grid, speckle) tinted per scene, wall tint, and
  the direction and strength of the light.
"""

import math
import os
import threading
from typing import Dict, Tuple

import numpy as np

from vla_fusion_ros.sim.shapes import COLORS, SHAPES

#: Cone meshes, as multiples of the base radius: a scene's cone uses the nearest.
CONE_SCALES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
BASE_RADIUS_M = 0.15
CUBE_HALF = 0.72      # cube half-side per footprint radius (its circumscribed circle ~ radius)
CONE_HEIGHT = 2.2     # cone height per base radius
FLOORS = ('checker', 'grid', 'speckle')
WALL_HEIGHT_M = 0.3
_BURIED = -10.0       # z of unused slots


class RendererUnavailable(RuntimeError):
    """MuJoCo or an offscreen OpenGL backend (EGL) is missing; the message says what to do."""


def _import_mujoco():
    os.environ.setdefault('MUJOCO_GL', 'egl')
    try:
        import mujoco
    except ImportError as exc:
        raise RendererUnavailable(
            f'the first_person world needs mujoco ({exc}); install it with '
            "'pip install mujoco' (scripts/bootstrap does)") from None
    except Exception as exc:  # noqa: BLE001 - mujoco checks MUJOCO_GL on import
        raise _gl_advice(exc) from None
    return mujoco


def _gl_advice(exc: Exception) -> RendererUnavailable:
    return RendererUnavailable(
        f'MuJoCo cannot render offscreen with MUJOCO_GL={os.environ.get("MUJOCO_GL")} '
        f'({type(exc).__name__}: {exc}); install an EGL implementation (Debian/Ubuntu: '
        "'apt-get install libegl1 libegl-mesa0') and use MUJOCO_GL=egl, or install OSMesa for "
        'MUJOCO_GL=osmesa')


def _cone_mesh(scale: float, segments: int = 24) -> Tuple[str, str]:
    r, h = BASE_RADIUS_M * scale, BASE_RADIUS_M * scale * CONE_HEIGHT
    angles = np.arange(segments) * 2 * math.pi / segments
    verts = [f'{r * math.cos(a):.5f} {r * math.sin(a):.5f} 0' for a in angles]
    return ' '.join(verts + [f'0 0 {h:.5f}']), f'{h:.5f}'


def _linear_rgb(color) -> str:
    return ' '.join(f'{c / 255.0:.3f}' for c in color) + ' 1'


def build_xml(arena_size_m: float, hfov_deg: float, pitch_deg: float,
              camera_height_m: float, camera_forward_m: float) -> str:
    """Return the MJCF text of the first-person world's model."""
    half = 0.5 * arena_size_m
    focal = 0.001
    width = 2 * focal * math.tan(math.radians(hfov_deg) / 2)
    height = width * 3 / 4
    assets = ['<texture type="skybox" builtin="gradient" rgb1=".75 .8 .85" rgb2=".35 .4 .45" '
              'width="64" height="64"/>',
              '<texture name="checker" type="2d" builtin="checker" rgb1=".42 .42 .42" '
              'rgb2=".30 .30 .30" width="64" height="64"/>',
              '<texture name="grid" type="2d" builtin="checker" mark="edge" rgb1=".36 .36 .36" '
              'rgb2=".36 .36 .36" markrgb=".55 .55 .55" width="64" height="64"/>',
              '<texture name="speckle" type="2d" builtin="flat" mark="random" random="0.08" '
              'rgb1=".35 .35 .35" markrgb=".6 .6 .6" width="128" height="128"/>']
    assets += [f'<material name="floor_{name}" texture="{name}" texrepeat="6 6"/>'
               for name in FLOORS]
    for k, scale in enumerate(CONE_SCALES):
        verts, _ = _cone_mesh(scale)
        assets.append(f'<mesh name="cone_{k}" vertex="{verts}"/>')
    geoms = [f'<geom name="floor" type="plane" size="{half} {half} 0.1" '
             'material="floor_checker"/>']
    for i, (sx, sy, lx, ly) in enumerate(((0, 1, 1, 0), (0, -1, 1, 0), (1, 0, 0, 1),
                                          (-1, 0, 0, 1))):
        size = f'{half * lx + 0.02:.3f} {half * ly + 0.02:.3f} {WALL_HEIGHT_M / 2}'
        geoms.append(f'<geom name="wall_{i}" type="box" size="{size}" '
                     f'pos="{sx * (half + 0.02):.3f} {sy * (half + 0.02):.3f} '
                     f'{WALL_HEIGHT_M / 2}" rgba=".55 .5 .45 1"/>')
    for color, rgb in COLORS.items():
        for shape in SHAPES:
            name = f'{color}_{shape}'
            common = f'name="{name}" pos="0 0 {_BURIED}" rgba="{_linear_rgb(rgb)}"'
            if shape == 'circle':
                geoms.append(f'<geom {common} type="sphere" size="{BASE_RADIUS_M}"/>')
            elif shape == 'square':
                side = BASE_RADIUS_M * CUBE_HALF
                geoms.append(f'<geom {common} type="box" size="{side} {side} {side}"/>')
            else:
                geoms.append(f'<geom {common} type="mesh" mesh="cone_3"/>')
    # Camera frame: looks along the body's +x, pitched down; MuJoCo cameras look along -z.
    pitch = math.radians(pitch_deg)
    xaxis = '0 -1 0'
    yaxis = f'{math.sin(pitch):.5f} 0 {math.cos(pitch):.5f}'
    return f"""<mujoco model="vla_first_person">
  <visual>
    <quality shadowsize="0" offsamples="0"/>
    <global offwidth="64" offheight="64"/>
    <map znear="0.01" zfar="20"/>
    <headlight ambient=".3 .3 .3" diffuse=".4 .4 .4" specular="0 0 0"/>
  </visual>
  <statistic extent="1" center="0 0 0"/>
  <asset>{''.join(assets)}</asset>
  <worldbody>
    <light name="sun" directional="true" pos="0 0 3" dir="0.3 0.2 -1" diffuse=".6 .6 .6"
           specular="0 0 0" castshadow="false"/>
    {''.join(geoms)}
    <body name="robot" mocap="true">
      <camera name="eye" pos="{camera_forward_m} 0 {camera_height_m}"
              xyaxes="{xaxis} {yaxis}" sensorsize="{width:.6f} {height:.6f}"
              focal="{focal} {focal}" resolution="640 480"/>
    </body>
  </worldbody>
</mujoco>"""


class MujocoScene:
    """The compiled model, its data and a renderer per image size (one per process)."""

    _lock = threading.Lock()
    _instances: Dict[Tuple, 'MujocoScene'] = {}

    @classmethod
    def shared(cls, key: Tuple) -> 'MujocoScene':
        """Return this process's scene for the model parameters ``key`` (built once)."""
        with cls._lock:
            scene = cls._instances.get(key)
            if scene is None:
                scene = cls._instances[key] = cls(*key)
            return scene

    def __init__(self, arena_size_m, hfov_deg, pitch_deg, camera_height_m, camera_forward_m):
        self.mj = _import_mujoco()
        mj = self.mj
        self.model = mj.MjModel.from_xml_string(build_xml(
            arena_size_m, hfov_deg, pitch_deg, camera_height_m, camera_forward_m))
        self.data = mj.MjData(self.model)
        self.renderers: Dict[Tuple[int, int], object] = {}
        self.geom = {mj.mj_id2name(self.model, mj.mjtObj.mjOBJ_GEOM, i): i
                     for i in range(self.model.ngeom)}
        self.floor_materials = [mj.mj_name2id(self.model, mj.mjtObj.mjOBJ_MATERIAL,
                                              f'floor_{n}') for n in FLOORS]
        self.cone_meshes = [mj.mj_name2id(self.model, mj.mjtObj.mjOBJ_MESH, f'cone_{k}')
                            for k in range(len(CONE_SCALES))]
        self.slots = [i for name, i in self.geom.items()
                      if name and name.split('_', 1)[0] in COLORS]
        self.lock = threading.Lock()

    def _renderer(self, width: int, height: int):
        renderer = self.renderers.get((width, height))
        if renderer is None:
            glob = self.model.vis.global_
            glob.offwidth, glob.offheight = max(glob.offwidth, width), max(glob.offheight, height)
            try:
                renderer = self.mj.Renderer(self.model, height, width)
            except Exception as exc:  # noqa: BLE001 - every GL failure gets the same advice
                raise _gl_advice(exc) from None
            self.renderers[(width, height)] = renderer
        return renderer

    def render(self, world, width: int, height: int) -> np.ndarray:
        """Write ``world``'s state into the model and render its camera's view."""
        with self.lock:
            self._load(world)
            renderer = self._renderer(width, height)
            renderer.update_scene(self.data, camera='eye')
            return renderer.render()

    def _load(self, world) -> None:
        m, d, look = self.model, self.data, world.looks
        for i in self.slots:
            m.geom_pos[i, 2] = _BURIED
        for obj in world.objects:
            i = self.geom[f'{obj.color}_{obj.shape}']
            scale = obj.radius / BASE_RADIUS_M
            z = 0.0
            if obj.shape == 'circle':
                m.geom_size[i, 0] = obj.radius
                z = obj.radius
            elif obj.shape == 'square':
                m.geom_size[i, :] = obj.radius * CUBE_HALF
                z = obj.radius * CUBE_HALF
            else:
                k = int(np.argmin([abs(s - scale) for s in CONE_SCALES]))
                m.geom_dataid[i] = self.cone_meshes[k]
            m.geom_pos[i] = (obj.x, obj.y, z)
            m.geom_quat[i] = (math.cos(obj.yaw / 2), 0.0, 0.0, math.sin(obj.yaw / 2))
        floor = self.geom['floor']
        m.geom_matid[floor] = self.floor_materials[look['floor']]
        m.mat_rgba[self.floor_materials[look['floor']]] = (*look['floor_tint'], 1.0)
        for k in range(4):
            m.geom_rgba[self.geom[f'wall_{k}']] = (*look['wall_tint'], 1.0)
        m.light_dir[0] = look['light_dir']
        m.light_diffuse[0] = (look['light'],) * 3
        m.vis.headlight.ambient[:] = (look['ambient'],) * 3
        x, y, theta = (float(v) for v in world.pose)
        d.mocap_pos[0] = (x, y, 0.0)
        d.mocap_quat[0] = (math.cos(theta / 2), 0.0, 0.0, math.sin(theta / 2))
        self.mj.mj_kinematics(m, d)
        self.mj.mj_camlight(m, d)
