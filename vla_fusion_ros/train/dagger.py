# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DAgger: on-policy data for behaviour cloning, every visited state labelled by the expert.

Behaviour cloning trains on the expert's states only; the policy's small errors take it to
states the expert never visited, where its errors grow (the compounding error of imitation
learning, Ross et al. 2011). Collisions with other objects are mostly that. DAgger's cure: roll
the *current policy* out, label every state it visits with the expert's action for that state,
add those frames to the training data and train on.

A round (:func:`rollout`) runs ``episodes`` scenes on **training** seeds (a range of its own,
never the validation or held-out seeds), many worlds side by side with one batched policy call
per step, exactly as the evaluation does. Per step and per episode:

- the frame is rendered at the episode's camera size (drawn, as in the base data, from
  ``data.render_sizes``) and preprocessed by the node's :func:`prepare_rgb`;
- the **label** is :meth:`ExpertPolicy.act` on the world's true state. It is defined from any
  state: the first-person search reads which directions were already in view
  (:attr:`~vla_fusion_ros.sim.base.BaseWorld.swept_rad`) and whether the target was seen;
- the **executed** action is the policy's, or with probability ``beta`` the expert's (the
  mixture policy of DAgger's first rounds), plus Gaussian noise with probability
  ``noise_prob`` (as in the base data), clamped to the robot's limits. A model with memory is
  fed back what was executed.

Episodes end as evaluation episodes do (reached, collision, out of the arena, stopped, timeout);
the frames up to the end are kept, so a collision's approach is in the data with the expert's
way around. Everything is a pure function of the weights, the seeds and ``round``.

Config (``dagger:`` in a training config, see ``train_config.DEFAULTS``)::

    dagger: {rounds: 3, episodes: 600, start_step: 2000, every: 1500, beta: 0.0,
             noise_prob: 0.0, noise_std: [0.3, 1.0], seed: 100000}

Round ``r`` runs before step ``start_step + r * every`` on seeds ``seed + r * episodes ..``.
The training loop (:mod:`.train`) counts the rollouts in its wall time, saves each round's
frames under ``<out>/dagger/`` (so ``--resume`` continues with the same data) and splits a
round's episodes across torchrun processes.
"""

from dataclasses import asdict
import glob
import os
import re
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import VAL_SEED_START
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.geometry import clamp_action
from vla_fusion_ros.sim.instructions import make_training_instruction
from vla_fusion_ros.sim.registry import make_config, make_world, parse_size
from vla_fusion_ros.train import dataset as bc
from vla_fusion_ros.train.aux import aux_targets

__all__ = ['describe', 'due_rounds', 'Rounds', 'rollout', 'round_seeds', 'validate']

#: Salt of each episode's random stream (camera size, mixture and noise draws).
_STREAM = 0xDA66E2
_LANGUAGE_STREAM = 0x6C616E67  # 'lang', as in dataset.vary_language


def validate(cfg: Dict[str, Any], base_seeds: Tuple[int, int]) -> Optional[str]:
    """Return the first problem of a ``dagger`` section as 'key: rule, got value', or None."""
    checks = [
        ('rounds', isinstance(cfg['rounds'], int) and cfg['rounds'] >= 0, 'an int >= 0'),
        ('episodes', isinstance(cfg['episodes'], int) and cfg['episodes'] >= 1, 'an int >= 1'),
        ('start_step', isinstance(cfg['start_step'], int) and cfg['start_step'] >= 0,
         'an int >= 0'),
        ('every', isinstance(cfg['every'], int) and cfg['every'] >= 1, 'an int >= 1'),
        ('beta', 0.0 <= cfg['beta'] <= 1.0, 'in [0, 1]'),
        ('noise_prob', 0.0 <= cfg['noise_prob'] <= 1.0, 'in [0, 1]'),
        ('noise_std', len(cfg['noise_std']) == 2 and min(cfg['noise_std']) >= 0,
         'two values >= 0'),
    ]
    for key, ok, rule in checks:
        if not ok:
            return f'dagger.{key}: must be {rule}, got {cfg[key]!r}'
    first, last = int(cfg['seed']), int(cfg['seed']) + cfg['rounds'] * cfg['episodes']
    if first < 0 or last > VAL_SEED_START:
        return (f'dagger.seed: rounds use scene seeds [{first}, {last}), which must lie in the '
                f'training range [0, {VAL_SEED_START}), got {cfg["seed"]!r}')
    if cfg['rounds'] and first < base_seeds[1] and base_seeds[0] < last:
        return (f'dagger.seed: rounds use scene seeds [{first}, {last}), which overlap the '
                f'base data\'s [{base_seeds[0]}, {base_seeds[1]}), got {cfg["seed"]!r}')
    return None


def due_rounds(cfg: Dict[str, Any], step: int, done: int) -> List[int]:
    """Return the rounds (after the ``done`` first) that are due before training ``step``."""
    return [r for r in range(done, int(cfg['rounds']))
            if step >= int(cfg['start_step']) + r * int(cfg['every'])]


def round_seeds(cfg: Dict[str, Any], round_index: int, rank: int = 0,
                processes: int = 1) -> range:
    """Return the scene seeds of ``round_index`` that process ``rank`` of ``processes`` runs."""
    count = int(cfg['episodes'])
    first = int(cfg['seed']) + round_index * count
    share = -(-count // processes)
    return range(first + rank * share, first + min(count, (rank + 1) * share))


def rollout(policy, seeds: Sequence[int], world: str, world_config=None,
            render_sizes: Sequence[Tuple[int, int]] = ((64, 64),), beta: float = 0.0,
            noise_prob: float = 0.0, noise_std: Sequence[float] = (0.3, 1.0),
            round_index: int = 0, expert: Optional[ExpertPolicy] = None,
            batch_size: int = 100, chunk_size: int = 1, language: str = 'templates'
            ) -> Dict[str, np.ndarray]:
    """
    Roll ``policy`` (a :class:`VLAPolicy`) out on ``seeds``; return expert-labelled frames.

    ``language`` (``data.language``): with ``varied`` each episode's instruction is phrased in
    the training language, as the base data's are, so the rollouts (a large share of the
    frames) do not pull the model back to the templates.

    The result has the on-disk format of :mod:`.dataset` (``executed`` holds what was applied,
    ``actions`` the expert's labels), so it joins the training data with
    :func:`~vla_fusion_ros.train.dataset_parallel.concatenate`.
    """
    if not len(seeds):
        raise ValueError('seeds: a DAgger round needs at least one scene')
    expert = expert or ExpertPolicy()
    side = policy.image_size
    std = np.asarray(noise_std, dtype=np.float64)
    instructions: Dict[str, int] = {}
    episodes: List[Dict[str, Any]] = []
    for first in range(0, len(seeds), batch_size):
        batch = [_start(world, world_config, int(s), render_sizes, round_index, instructions,
                        language) for s in seeds[first:first + batch_size]]
        memory = policy.new_memory(len(batch))
        scale = torch.as_tensor(policy.action_scale)
        while True:
            running = [i for i, e in enumerate(batch) if not e['world'].done]
            if not running:
                break
            images = np.stack([prepare_rgb(batch[i]['world'].render(*batch[i]['size']),
                                           'rgb8', side) for i in running])
            labels = [expert.act(batch[i]['world']) for i in running]
            texts = [batch[i]['instruction'] for i in running]
            if memory is not None:
                acted = policy.predict_batch(images, texts, memory=memory, rows=running)
            else:
                acted = policy.predict_batch(images, texts)
            executed = []
            for k, i in enumerate(running):
                ep, env = batch[i], batch[i]['world']
                action = labels[k] if ep['rng'].random() < beta else acted[k, 0]
                action = np.asarray(action, dtype=np.float64)
                if noise_prob and ep['rng'].random() < noise_prob:
                    action = action + ep['rng'].normal(0.0, std)
                action = np.array(clamp_action(action, env.config.max_linear,
                                               env.config.max_angular), dtype=np.float32)
                if chunk_size > 1:
                    ep['chunks'].append(bc._clean_chunk(env, expert, labels[k], chunk_size))
                ep['images'].append(images[k])
                ep['rows'].append((labels[k], action, env.pose.copy(), 0, env.steps,
                                   ep['text']))
                executed.append(action)
                env.step(action)
            if memory is not None:  # the memory is told what was executed
                memory['previous'][running] = (torch.as_tensor(np.stack(executed)) / scale
                                               ).clamp(-1.0, 1.0)
        episodes.extend(batch)
    return _pack(episodes, instructions, world, expert, seeds, render_sizes, beta,
                 noise_prob, noise_std, round_index, chunk_size, side)


def _start(world: str, config, seed: int, render_sizes, round_index: int,
           instructions: Dict[str, int], language: str = 'templates') -> Dict[str, Any]:
    env = make_world(world, config)
    env.reset(seed)
    rng = np.random.default_rng([seed, round_index, _STREAM])
    size = render_sizes[int(rng.integers(len(render_sizes)))]
    text = env.instruction
    if language == 'varied':  # its own stream: the templates' draws stay as they were
        color, shape = env.named
        text = make_training_instruction(color, shape, np.random.default_rng(
            [seed, round_index, _STREAM, _LANGUAGE_STREAM]))
    return {'world': env, 'rng': rng, 'size': tuple(size), 'images': [], 'rows': [],
            'chunks': [], 'instruction': text,
            'text': instructions.setdefault(text, len(instructions))}


def _pack(episodes, instructions, world, expert, seeds, render_sizes, beta, noise_prob,
          noise_std, round_index, chunk_size, side) -> Dict[str, np.ndarray]:
    rows, info, images, chunks = [], [], [], []
    for index, ep in enumerate(episodes):
        env = ep['world']
        rows.extend((r[0], r[1], r[2], index, r[4], r[5]) for r in ep['rows'])
        images.extend(ep['images'])
        chunks.extend(ep['chunks'])
        info.append((env.seed, env.steps, env.success, ' '.join(env.named), env.target_absent,
                     env.reason, ep['size']))
    meta = {'format_version': bc.FORMAT_VERSION, 'world_name': world,
            'world': asdict(episodes[0]['world'].config), 'expert': asdict(expert),
            'seed': int(seeds[0]), 'episodes': len(episodes), 'dagger_round': round_index,
            'beta': beta, 'noise_prob': noise_prob, 'noise_std': list(noise_std),
            'chunk_size': chunk_size, 'render_sizes': [list(s) for s in render_sizes],
            'image_size': int(side[0]),
            'preprocess': 'vla_fusion_ros.model.preprocess.prepare_rgb'}
    return bc.pack(np.stack(images), rows, info, list(instructions), meta,
                   np.stack(chunks) if chunk_size > 1 else None)


class Rounds:
    """
    The training loop's side of DAgger: which rounds are due, shards per process, resume.

    Process ``rank`` of ``processes`` rolls out its share of a round's seeds and writes it to
    ``<out>/dagger/round<r>.rank<k>.npz``; after ``barrier`` every process reads all shards
    of the round in rank order, so all of them train on the same frames.
    """

    def __init__(self, config: Dict[str, Any], out: str, rank: int = 0, processes: int = 1):
        self.cfg, self.data_cfg = config['dagger'], config['data']
        self.folder = os.path.join(out, 'dagger')
        self.rank, self.processes = rank, processes

    def due(self, step: int, done: int) -> List[int]:
        """Return the rounds due before training ``step`` (``done`` rounds already ran)."""
        return due_rounds(self.cfg, step, done)

    def add(self, train, info: Dict[str, Any], rounds: Sequence[int], policy=None,
            barrier=None):
        """
        Run rounds with ``policy`` (or, when ``None``, reload saved ones) and add the frames.

        ``train`` is a :class:`~vla_fusion_ros.train.dataset.BCDataset` with ``aux`` targets;
        ``info`` (the run's data description) counts the frames. Returns one log entry per
        round.
        """
        entries = []
        for r in rounds:
            started = time.monotonic()
            parts = (self.load(r) if policy is None else
                     self.run(r, policy, policy.chunk_size, barrier or (lambda: None)))
            for part in parts:
                train.extend(part)
                train.aux = torch.cat([train.aux, aux_targets(part)])
            won = [bool(v) for p in parts for v in p['episode_success']]
            frames = sum(len(p['images']) for p in parts)
            info['train_frames'] = len(train)
            info['dagger_frames'] = info.get('dagger_frames', 0) + frames
            entries.append({'step': None, 'dagger_round': r, 'episodes': len(won),
                            'frames': frames, 'rollout_success': sum(won) / len(won),
                            'seconds': round(time.monotonic() - started, 1)})
        return entries

    def run(self, round_index: int, policy, chunk_size: int, barrier=lambda: None
            ) -> List[Dict[str, np.ndarray]]:
        """Roll out this process's share of a round; return every process's frames."""
        seeds = round_seeds(self.cfg, round_index, self.rank, self.processes)
        if len(seeds):
            name = self.data_cfg['world_name']
            data = rollout(policy, seeds, name, make_config(name, self.data_cfg['world']),
                           [parse_size(t) for t in self.data_cfg['render_sizes']],
                           float(self.cfg['beta']), float(self.cfg['noise_prob']),
                           self.cfg['noise_std'], round_index, chunk_size=chunk_size,
                           language=self.data_cfg.get('language', 'templates'))
            os.makedirs(self.folder, exist_ok=True)
            name = f'round{round_index}.rank{self.rank}.npz'
            partial = os.path.join(self.folder, '.partial.' + name)
            np.savez(partial, **data)  # uncompressed: quick, and read back only here
            os.replace(partial, os.path.join(self.folder, name))
        barrier()
        return self.load(round_index)

    def load(self, round_index: int) -> List[Dict[str, np.ndarray]]:
        """Return the saved shards of a round, in rank order (``--resume`` reads them)."""
        paths = glob.glob(os.path.join(self.folder, f'round{round_index}.rank*.npz'))
        paths.sort(key=lambda p: int(re.search(r'rank(\d+)\.npz$', p).group(1)))
        if not paths:
            raise FileNotFoundError(f'{self.folder}: no frames of DAgger round {round_index} '
                                    '(was the run started without dagger?)')
        return [bc.load(p) for p in paths]


def describe(entry: Dict[str, Any], frames: int) -> str:
    """One log line for a round's entry from :meth:`Rounds.add`."""
    return (f'DAgger round {entry["dagger_round"]} at step {entry["step"]}: '
            f'{entry["episodes"]} episodes, {entry["frames"]} frames, on-policy strict success '
            f'{entry["rollout_success"]:.0%}, {entry["seconds"]} s; {frames} training frames')
