# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Behaviour-cloning data from the simulated world's expert, on disk and as a torch Dataset.

The generator runs the expert (:class:`vla_fusion_ros.sim.expert.ExpertPolicy`) in a world
(``--world overhead|first_person``). **Train/deploy parity**: each episode renders at a camera
resolution drawn from ``--render-sizes`` (default 64x64, 160x120, 320x240 and 640x480, the
simulated camera's), and every frame goes through
:func:`vla_fusion_ros.model.preprocess.prepare_rgb`, the very function the fusion node applies
to camera messages, to become the model's square input. With probability ``noise_prob`` per
step, Gaussian noise is added to the action that is
*executed*, so the robot drifts off the expert's path and the data shows how to recover. The
label stored for every frame is always the expert's clean action for the state in that frame.

With ``chunk_size = k > 1`` every frame also stores the next ``k`` clean expert actions, from a
noise-free rollout of the expert starting at that frame's state (what a chunking policy should
execute open loop); the rollout pads with zeros once the episode ends.

On-disk format: one ``.npz`` (compressed; loadable with ``allow_pickle=False``) holding

- ``images`` uint8 ``[F, S, S, 3]`` RGB; ``actions`` float32 ``[F, 2]`` clean labels;
  ``executed`` float32 ``[F, 2]`` what was applied (clamped); ``poses`` float64 ``[F, 3]``;
- ``episode`` int32 ``[F]``, ``step`` int32 ``[F]``, ``instruction_id`` int32 ``[F]`` indexing
  ``instructions`` (unique strings);
- ``episode_seed`` int64, ``episode_length`` int32, ``episode_success`` bool (strict),
  ``episode_target`` str (the named ``'<color> <shape>'``), ``episode_absent`` bool,
  ``episode_reason`` str, ``episode_render_size`` int32 ``[E, 2]``, all per episode;
- ``action_chunks`` float32 ``[F, k, 2]`` when ``k > 1``; ``meta``: a JSON string.

Seeds: episode ``i`` uses scene seed ``seed + i``. Training data comes from
``[TRAIN_SEED_START, VAL_SEED_START)``, validation from ``[VAL_SEED_START, EVAL_SEED_START)``;
seeds from ``EVAL_SEED_START`` (1,000,000) on are held out for evaluation and refused here
unless asked for explicitly.

CLI: ``python -m vla_fusion_ros.train.dataset --episodes 3000 --seed 0 --out data/train.npz``
"""

import argparse
import copy
from dataclasses import asdict
import json
import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import (BaseWorldConfig, EVAL_SEED_START, TRAIN_SEED_START,
                                     VAL_SEED_START)
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.instructions import make_training_instruction
from vla_fusion_ros.sim.registry import make_world, parse_size, world_name_of, WORLDS
from vla_fusion_ros.sim.teleop import ActuationNoise

FORMAT_VERSION = 2

#: Camera resolutions (width, height) the default datasets render at, one drawn per episode:
#: the model's own size and the usual camera sizes up to the simulated camera's 640x480, so
#: that every camera resolution is in the trained regime.
RENDER_SIZES: Tuple[Tuple[int, int], ...] = ((64, 64), (160, 120), (320, 240), (640, 480))

#: How training phrases the instructions: the world's own templates, or the training
#: language of :func:`vla_fusion_ros.sim.instructions.make_training_instruction`.
LANGUAGES = ('templates', 'varied')
_LANGUAGE_STREAM = 0x6C616E67  # 'lang': the varied language's own random stream per scene

__all__ = ['BCDataset', 'EVAL_SEED_START', 'generate', 'LANGUAGES', 'load', 'pack',
           'parse_size', 'RENDER_SIZES', 'save', 'TRAIN_SEED_START', 'VAL_SEED_START',
           'vary_language']


def _clean_chunk(world, expert: ExpertPolicy, first: np.ndarray,
                 chunk_size: int) -> np.ndarray:
    """Return the expert's next ``chunk_size`` clean actions from now (zeros once done)."""
    chunk = np.zeros((chunk_size, 2), dtype=np.float32)
    chunk[0] = first
    clone = copy.copy(world)
    clone.pose = world.pose.copy()
    for j in range(1, chunk_size):
        if clone.step(chunk[j - 1]).done:
            break
        chunk[j] = expert.act(clone)
    return chunk


def generate(episodes: int, seed: int = TRAIN_SEED_START,
             world_config: Optional[BaseWorldConfig] = None,
             expert: Optional[ExpertPolicy] = None, noise_prob: float = 0.5,
             noise_std: Tuple[float, float] = (0.3, 1.0), chunk_size: int = 1,
             allow_eval_seeds: bool = False, progress: bool = False, world: str = '',
             render_sizes: Sequence[Tuple[int, int]] = ((64, 64),),
             image_size: int = 64) -> Dict[str, np.ndarray]:
    """
    Run ``episodes`` expert episodes on scene seeds ``seed .. seed + episodes - 1``.

    Every frame is rendered at a camera resolution drawn per episode from ``render_sizes``
    and turned into the model's ``image_size`` square input by
    :func:`vla_fusion_ros.model.preprocess.prepare_rgb`, the node's own preprocessing.

    :param world: ``overhead`` or ``first_person`` ('' = the world of ``world_config``, or
        overhead).
    :param noise_std: standard deviations of the noise on ``[linear_x, angular_z]``.
    :returns: the arrays of the on-disk format (see the module docstring).
    """
    if episodes < 1:
        raise ValueError(f'episodes: must be >= 1, got {episodes}')
    if seed < 0:
        raise ValueError(f'seed: must be >= 0, got {seed}')
    if seed + episodes > EVAL_SEED_START and not allow_eval_seeds:
        raise ValueError(f'seed: scene seeds [{seed}, {seed + episodes}) reach the held-out '
                         f'evaluation range (seeds >= {EVAL_SEED_START})')
    noise = ActuationNoise(noise_prob, noise_std)    # checks both
    if chunk_size < 1:
        raise ValueError(f'chunk_size: must be >= 1, got {chunk_size}')
    if not render_sizes:
        raise ValueError('render_sizes: give at least one WIDTHxHEIGHT')
    name = world or (world_name_of(world_config) if world_config is not None else 'overhead')
    env = make_world(name, world_config)
    expert = expert or ExpertPolicy()
    cfg = env.config
    size = int(image_size)
    capacity = episodes * 32
    images = np.empty((capacity, size, size, 3), dtype=np.uint8)
    rows: List[Tuple] = []  # per frame: label, executed, pose, episode, step, instruction_id
    chunks: List[np.ndarray] = []
    instructions: Dict[str, int] = {}
    episode_info: List[Tuple] = []
    for index in tqdm(range(episodes), desc='episodes', unit='ep', disable=not progress):
        scene_seed = seed + index
        env.reset(scene_seed)
        noise_rng = noise.start(scene_seed)   # the scene's own stream: camera size, noise
        width, height = render_sizes[int(noise_rng.integers(len(render_sizes)))]
        text_id = instructions.setdefault(env.instruction, len(instructions))
        while not env.done:
            frame = len(rows)
            if frame == capacity:
                capacity = capacity * 3 // 2
                images = np.resize(images, (capacity, size, size, 3))
            images[frame] = prepare_rgb(env.render(width, height), 'rgb8', (size, size))
            label = expert.act(env)
            executed = noise.perturb(label, cfg.max_linear, cfg.max_angular)  # as stored
            if chunk_size > 1:
                chunks.append(_clean_chunk(env, expert, label, chunk_size))
            rows.append((label, executed, env.pose.copy(), index, env.steps, text_id))
            env.step(executed)
        episode_info.append((scene_seed, env.steps, env.success, ' '.join(env.named),
                             env.target_absent, env.reason, (width, height)))
    meta = {'format_version': FORMAT_VERSION, 'world_name': name, 'world': asdict(cfg),
            'expert': asdict(expert), 'seed': seed, 'episodes': episodes,
            'noise_prob': noise_prob, 'noise_std': list(noise_std), 'chunk_size': chunk_size,
            'render_sizes': [list(s) for s in render_sizes], 'image_size': size,
            'preprocess': 'vla_fusion_ros.model.preprocess.prepare_rgb'}
    return pack(images[:len(rows)], rows, episode_info, list(instructions), meta,
                np.stack(chunks) if chunk_size > 1 else None)


def pack(images: np.ndarray, rows: Sequence[Tuple], episode_info: Sequence[Tuple],
         instructions: Sequence[str], meta: Dict, chunks: Optional[np.ndarray] = None
         ) -> Dict[str, np.ndarray]:
    """
    Return the arrays of the on-disk format from per-frame and per-episode tuples.

    ``rows``: per frame ``(label, executed, pose, episode, step, instruction_id)``, the frames
    of each episode contiguous and in order; ``episode_info``: per episode ``(seed, length,
    success, target, absent, reason, (width, height))``.
    """
    label, executed, poses, episode, step, text_ids = zip(*rows)
    ep_seed, ep_length, ep_success, ep_target, ep_absent, ep_reason, ep_size = zip(
        *episode_info)
    data = {
        'images': images,
        'actions': np.asarray(label, dtype=np.float32),
        'executed': np.asarray(executed, dtype=np.float32),
        'poses': np.asarray(poses, dtype=np.float64),
        'episode': np.asarray(episode, dtype=np.int32),
        'step': np.asarray(step, dtype=np.int32),
        'instruction_id': np.asarray(text_ids, dtype=np.int32),
        'instructions': np.asarray(list(instructions), dtype=np.str_),
        'episode_seed': np.asarray(ep_seed, dtype=np.int64),
        'episode_length': np.asarray(ep_length, dtype=np.int32),
        'episode_success': np.asarray(ep_success, dtype=bool),
        'episode_target': np.asarray(ep_target, dtype=np.str_),
        'episode_absent': np.asarray(ep_absent, dtype=bool),
        'episode_reason': np.asarray(ep_reason, dtype=np.str_),
        'episode_render_size': np.asarray(ep_size, dtype=np.int32),
        'meta': np.asarray(json.dumps(meta)),
    }
    if chunks is not None:
        data['action_chunks'] = chunks
    return data


def vary_language(data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """
    Return ``data`` with each episode's instruction rephrased in the training language.

    Each episode gets one instruction naming what its own names, drawn from its scene seed
    (``[seed, 'lang']``: the same for every run and every model); images and labels are
    shared, not copied.
    """
    instructions: Dict[str, int] = {}
    new_ids = np.empty(len(data['episode_seed']), dtype=np.int32)
    for episode, seed in enumerate(data['episode_seed']):
        named = str(data['episode_target'][episode]).split()  # what its instruction names
        if len(named) != 2:
            raise ValueError(f'episode {episode}: target {named!r} is not "<color> <shape>"')
        rng = np.random.default_rng([int(seed), _LANGUAGE_STREAM])
        text = make_training_instruction(named[0], named[1], rng)
        new_ids[episode] = instructions.setdefault(text, len(instructions))
    out = dict(data)
    out['instructions'] = np.asarray(list(instructions), dtype=np.str_)
    out['instruction_id'] = new_ids[data['episode']]
    meta = json.loads(str(data['meta']))
    meta['language'] = 'varied'
    out['meta'] = np.asarray(json.dumps(meta))
    return out


def save(path: str, data: Dict[str, np.ndarray]) -> None:
    """Write ``data`` as one compressed ``.npz`` (parent folders are created)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    np.savez_compressed(path, **data)


def load(path: str) -> Dict[str, np.ndarray]:
    """Read a dataset written by :func:`save` into memory (no pickles)."""
    with np.load(path, allow_pickle=False) as archive:
        data = {key: archive[key] for key in archive.files}
    version = json.loads(str(data['meta'])).get('format_version')
    if version != FORMAT_VERSION:
        raise ValueError(f'{path}: format_version {version} (this code reads {FORMAT_VERSION})')
    return data


class BCDataset(Dataset):
    """
    Frames of a generated dataset: ``(image, instruction, action chunk)`` per item.

    All arrays stay in memory. ``image`` is a uint8 ``[S, S, 3]`` tensor (or, with
    ``image_format='float'``, a float32 ``[3, S, S]`` tensor in ``[0, 1]``); ``instruction`` is
    the raw string (tokenization belongs to the model); the action is float32 ``[chunk, 2]``.
    """

    def __init__(self, source: Union[str, Dict[str, np.ndarray]], chunk_size: int = 1,
                 image_format: str = 'uint8', indices: Optional[Sequence[int]] = None):
        if image_format not in ('uint8', 'float'):
            raise ValueError(f'image_format: invalid {image_format!r} (valid: uint8, float)')
        data = load(source) if isinstance(source, str) else source
        self.meta = json.loads(str(data['meta']))
        stored = data['action_chunks'].shape[1] if 'action_chunks' in data else 1
        if not 1 <= chunk_size <= stored:
            raise ValueError(f'chunk_size: {chunk_size} is not available (the dataset stores '
                             f'chunks of {stored}; regenerate with --chunk-size {chunk_size})')
        chunks = data['action_chunks'] if chunk_size > 1 else data['actions'][:, None, :]
        self.chunk_size = chunk_size
        self.image_format = image_format
        self.instructions: List[str] = [str(s) for s in data['instructions']]
        self.images = torch.from_numpy(data['images'])
        self.actions = torch.from_numpy(np.ascontiguousarray(chunks[:, :chunk_size]))
        self.instruction_id = torch.from_numpy(data['instruction_id'].astype(np.int64))
        self.episode = data['episode']
        self.executed = torch.from_numpy(np.ascontiguousarray(data['executed']))
        self.indices = None if indices is None else torch.as_tensor(indices, dtype=torch.long)

    def extend(self, data: Dict[str, np.ndarray]) -> None:
        """
        Append the frames of another dataset of the same format (a DAgger round's).

        Its episodes follow this dataset's; a view (``indices``) takes all the new frames.
        """
        texts = {text: i for i, text in enumerate(self.instructions)}
        remap = np.array([texts.setdefault(str(t), len(texts)) for t in data['instructions']],
                         dtype=np.int64)
        self.instructions = list(texts)
        chunks = (data['action_chunks'] if self.chunk_size > 1
                  else data['actions'][:, None, :])
        first = len(self.images)
        self.images = torch.cat([self.images, torch.from_numpy(data['images'])])
        self.actions = torch.cat([self.actions, torch.from_numpy(
            np.ascontiguousarray(chunks[:, :self.chunk_size]))])
        self.instruction_id = torch.cat([self.instruction_id,
                                         torch.from_numpy(remap[data['instruction_id']])])
        self.episode = np.concatenate([self.episode,
                                       data['episode'] + int(self.episode.max()) + 1])
        self.executed = torch.cat([self.executed, torch.from_numpy(data['executed'])])
        if self.indices is not None:
            self.indices = torch.cat([self.indices, torch.arange(first, len(self.images))])

    def __len__(self) -> int:
        return len(self.images) if self.indices is None else len(self.indices)

    def _image(self, images: torch.Tensor) -> torch.Tensor:
        if self.image_format == 'uint8':
            return images
        return images.movedim(-1, -3).float().div_(255.0)

    def __getitem__(self, item: int):
        i = int(item if self.indices is None else self.indices[item])
        return (self._image(self.images[i]), self.instructions[self.instruction_id[i]],
                self.actions[i])

    def get_batch(self, items: Sequence[int]):
        """Return a whole batch at once: ``(images [B, ...], instructions, actions)``."""
        index = torch.as_tensor(items, dtype=torch.long)
        if self.indices is not None:
            index = self.indices[index]
        ids = self.instruction_id[index].tolist()
        return (self._image(self.images[index]), [self.instructions[i] for i in ids],
                self.actions[index])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate a dataset from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--episodes', type=int, default=3000)
    parser.add_argument('--seed', type=int, default=TRAIN_SEED_START,
                        help='first scene seed (episode i uses seed + i)')
    parser.add_argument('--out', required=True, help='output .npz path')
    parser.add_argument('--chunk-size', type=int, default=1)
    parser.add_argument('--noise-prob', type=float, default=0.5)
    parser.add_argument('--noise-std', type=float, nargs=2, default=(0.3, 1.0),
                        metavar=('LINEAR', 'ANGULAR'))
    parser.add_argument('--world', choices=WORLDS, default='overhead')
    parser.add_argument('--render-sizes', nargs='+', default=[f'{w}x{h}' for w, h in RENDER_SIZES],
                        help='camera resolutions, one drawn per episode (default: %(default)s)')
    parser.add_argument('--image-size', type=int, default=64, help='model input side (px)')
    parser.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE',
                        help='world config fields, e.g. absent_prob=0.2 num_objects=3')
    parser.add_argument('--allow-eval-seeds', action='store_true')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    try:
        overrides = {}
        for item in args.set:
            key, _, text = item.partition('=')
            overrides[key] = json.loads(text) if text[:1] in '0123456789-[{tf' else text
        from vla_fusion_ros.sim.registry import make_config
        config = make_config(args.world, overrides)
        start = time.monotonic()
        data = generate(args.episodes, args.seed, config, noise_prob=args.noise_prob,
                        noise_std=tuple(args.noise_std), chunk_size=args.chunk_size,
                        allow_eval_seeds=args.allow_eval_seeds, progress=not args.no_progress,
                        world=args.world, image_size=args.image_size,
                        render_sizes=[parse_size(t) for t in args.render_sizes])
        generated = time.monotonic() - start
        save(args.out, data)
    except (ValueError, json.JSONDecodeError) as exc:
        print(f'dataset: {exc}', file=sys.stderr)
        return 2
    frames = len(data['images'])
    print(f'{args.out}: {args.world} world, {frames} frames, {args.episodes} episodes '
          f'(seeds {args.seed}..{args.seed + args.episodes - 1}; '
          f'{int(data["episode_absent"].sum())} absent-target), expert strict success '
          f'{data["episode_success"].mean():.1%} under noise, generated in {generated:.1f} s '
          f'({frames / generated:.0f} frames/s), {os.path.getsize(args.out) / 1e6:.1f} MB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
