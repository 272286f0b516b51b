# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The training configuration: a YAML file, ``--set key=value`` overrides, validation, data.

A training config is a mapping with the sections documented in ``config/train_overhead.yaml``:
``data`` (where the behaviour-cloning data lives and how to generate it when it is missing),
``model`` (a path to a model YAML, or the model config inline), ``optim``, ``schedule``,
``augment``, ``eval`` and a top-level ``seed``. Overrides address any key by its dotted path
(``model.fusion.operator=film``); the value is parsed as YAML (``[1, 2]``, ``3e-3``, ``true``).
A ``model`` given as a path is read into a mapping first, so overrides reach into it.
"""

import copy
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from vla_fusion_ros.model import ModelConfig
from vla_fusion_ros.sim.base import EVAL_SEED_START, VAL_SEED_START
from vla_fusion_ros.sim.registry import make_config, WORLDS
from vla_fusion_ros.train import dagger
from vla_fusion_ros.train import dataset as bc
from vla_fusion_ros.train import dataset_parallel
from vla_fusion_ros.train import lerobot_source
from vla_fusion_ros.train.aux import AUX_TARGETS, aux_targets
from vla_fusion_ros.train.losses import ACTION_LOSSES
import yaml

#: Defaults of every key; a config file only needs the keys it changes.
DEFAULTS: Dict[str, Any] = {
    'seed': 0,                      # data order, augmentation and model.seed (initial weights)
    'data': {
        'path': 'data/train.npz',   # generated with 'generate' if the file is missing
        'generate': {'episodes': 3000, 'seed': 0, 'noise_prob': 0.5,
                     'noise_std': [0.3, 1.0],
                     'workers': 1},     # processes that generate it (the same arrays)
        'val_path': 'data/val.npz',  # '' = hold out val_fraction of the episodes instead
        'val_generate': {'episodes': 100, 'seed': VAL_SEED_START},
        'val_fraction': 0.05,
        'val_max_frames': 2000,     # validation loss over at most this many frames
        'world_name': 'overhead',   # overhead | first_person
        'world': {},                # world config fields for generation (defaults: the world's)
        # Camera sizes, one drawn per episode, each preprocessed by the node's prepare_rgb.
        'render_sizes': ['64x64', '160x120', '320x240', '640x480'],
        # A LeRobotDataset v3 folder to train from instead (train --dataset); '' = none. The
        # keys name its camera ('' = its only one), action and task features.
        'lerobot': {'root': '', 'image_key': '', 'action_key': 'action', 'task_key': 'task'},
        'language': 'templates',    # 'varied': rephrase each episode in the training language
    },
    'model': 'config/model_default.yaml',
    'optim': {'lr': 2.0e-3, 'weight_decay': 1.0e-4, 'betas': [0.9, 0.99], 'grad_clip': 1.0},
    'schedule': {
        'batch_size': 128,          # global batch: split across DDP processes
        'epochs': 16.0,             # used when steps is 0
        'steps': 0,
        'warmup_steps': 200,
        'min_lr_ratio': 0.02,       # cosine decays to lr * min_lr_ratio
        'val_every': 500,           # steps between validations (and at the end)
        'log_every': 50,
        'keep_steps': [],           # also validate at these steps and keep their weights as
                                    # step_<n>.safetensors (a learning curve from one run)
    },
    'augment': {'hflip': 0.5},      # mirror left-right (angular_z flips sign)
    # DAgger (vla_fusion_ros.train.dagger): before step start_step + r * every, roll the
    # current policy out on `episodes` training scenes (seeds from `seed`), label every frame
    # with the expert's action and add the frames to the training data. 0 rounds = off.
    'dagger': {'rounds': 0, 'episodes': 500, 'start_step': 1000, 'every': 1000,
               'beta': 0.0,         # per step: execute the expert's action instead
               'noise_prob': 0.0, 'noise_std': [0.3, 1.0],  # noise on the executed action
               'seed': 100_000},
    # Training-only state probe (vla_fusion_ros.train.aux): its weight, and its targets: all
    # (the pose in the arena too) or egocentric (target and nearest obstacle, robot frame).
    # The action loss: mse, or huber (its delta in normalised units; train/losses.py).
    # language_weight > 0: the language probe's weight (train/aux.py: the adapters' output
    # names the instruction's colour and shape; simulated worlds only); language_action_grad:
    # the share of the action loss's gradient that reaches the adapters (1: all of it; 0: they
    # learn from the language probe alone; needs the probe when below 1).
    'loss': {'aux_weight': 1.0, 'aux_targets': 'all', 'action': 'mse', 'huber_delta': 0.05,
             'language_weight': 0.0, 'language_action_grad': 1.0},
    'eval': {'val_episodes': 50,    # closed-loop success on VAL seeds at each validation
             'episodes': 100,       # closed-loop success on EVAL seeds of the final model
             'select_episodes': 0},  # > 0: best or last, on this many more VAL seeds
                                     # (needs val_episodes > 0; train.selection)
    'threads': 0,                   # torch threads per process; 0 = torch's default
    # Train with conv weights and images in channels-last memory order: the same model and
    # loss, 15-25% fewer seconds a step for the CNN variants on one CPU thread (the fusion
    # comparison's measurement), floats summed in another order.
    'channels_last': False,
}


class TrainConfigError(ValueError):
    """A training config value is invalid; the message names the dotted key."""


def merge(base: Dict[str, Any], update: Dict[str, Any], prefix: str = '') -> Dict[str, Any]:
    """Return ``base`` updated recursively by ``update``; unknown keys fail by name."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if key not in base:
            raise TrainConfigError(f'{prefix}{key}: unknown key (valid: {", ".join(base)})')
        if isinstance(base[key], dict) and key not in ('model', 'world'):
            if not isinstance(value, dict):
                raise TrainConfigError(f'{prefix}{key}: expected a mapping, got {value!r}')
            out[key] = merge(base[key], value, f'{prefix}{key}.')
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve_model(config: Dict[str, Any], base_dir: str) -> None:
    """Replace a ``model`` path by the mapping it holds (relative to cwd or the config)."""
    model = config['model']
    if isinstance(model, dict):
        return
    if not isinstance(model, str) or not model:
        raise TrainConfigError(f'model: expected a path or a mapping, got {model!r}')
    for candidate in (model, os.path.join(base_dir, model)):
        if os.path.isfile(candidate):
            with open(candidate, encoding='utf-8') as handle:
                config['model'] = yaml.safe_load(handle) or {}
            return
    raise TrainConfigError(f'model: file {model!r} not found')


def flatten(tree: Any, prefix: str = '') -> Dict[str, Any]:
    """Return a nested config's leaves by dotted key ('model.fusion.operator')."""
    if not isinstance(tree, dict):
        return {prefix[:-1]: tree}
    flat: Dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f'{prefix}{key}.'))
    return flat


def apply_override(config: Dict[str, Any], item: str, base_dir: str = '.') -> None:
    """Apply one ``dotted.key=value`` override in place (the value is parsed as YAML)."""
    if '=' not in item:
        raise TrainConfigError(f'override {item!r} is not of the form key=value')
    key, text = item.split('=', 1)
    value = yaml.safe_load(text) if text else ''
    if isinstance(value, str):
        try:
            value = float(value)  # YAML 1.1 reads '2e-3' (no dot) as a string
        except ValueError:
            pass
    parts = key.strip().split('.')
    if parts[0] == 'model' and len(parts) > 1:
        _resolve_model(config, base_dir)
    node = config
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            if isinstance(node, dict) and parts[0] == 'model' and depth > 0:
                node[part] = {}  # a model file may leave whole sections to their defaults
            else:
                raise TrainConfigError(f'{key}: unknown key {part!r}')
        node = node[part]
    if not isinstance(node, dict):
        raise TrainConfigError(f'{key}: {".".join(parts[:-1])} is not a mapping')
    if parts[0] not in ('model',) and parts[:2] != ['data', 'world'] and parts[-1] not in node:
        raise TrainConfigError(f'{key}: unknown key {parts[-1]!r} (valid: {", ".join(node)})')
    node[parts[-1]] = value


def load_config(path: Optional[str], overrides: Sequence[str] = ()) -> Dict[str, Any]:
    """Read a training config, apply overrides and validate; return the resolved mapping."""
    data: Dict[str, Any] = {}
    base_dir = '.'
    if path:
        with open(path, encoding='utf-8') as handle:
            data = yaml.safe_load(handle) or {}
        base_dir = os.path.dirname(os.path.abspath(path))
        if not isinstance(data, dict):
            raise TrainConfigError(f'{path}: expected a mapping at the top level')
    config = merge(DEFAULTS, data)
    for item in overrides:
        apply_override(config, item, base_dir)
    _resolve_model(config, base_dir)
    validate(config)
    return config


def model_config(config: Dict[str, Any]) -> ModelConfig:
    """Return the :class:`ModelConfig`, its seed set to the training seed."""
    model = dict(config['model'])
    model['seed'] = int(config['seed'])
    return ModelConfig.from_dict(model)


def validate(config: Dict[str, Any]) -> None:
    """Raise :class:`TrainConfigError` naming the first invalid key."""
    try:
        _validate(config)
    except TypeError as exc:
        raise TrainConfigError(f'a value has the wrong type ({exc})') from None


def _validate(config: Dict[str, Any]) -> None:
    def need(ok: bool, key: str, rule: str, value: Any) -> None:
        if not ok:
            raise TrainConfigError(f'{key}: {rule}, got {value!r}')

    sched, optim = config['schedule'], config['optim']
    need(isinstance(config['seed'], int) and config['seed'] >= 0, 'seed', 'must be an int >= 0',
         config['seed'])
    need(isinstance(sched['batch_size'], int) and sched['batch_size'] >= 1,
         'schedule.batch_size', 'must be an int >= 1', sched['batch_size'])
    need(sched['steps'] > 0 or sched['epochs'] > 0, 'schedule.steps',
         'or schedule.epochs must be > 0', sched['steps'])
    need(optim['lr'] > 0, 'optim.lr', 'must be > 0', optim['lr'])
    need(isinstance(config['channels_last'], bool), 'channels_last', 'must be true or false',
         config['channels_last'])
    keep = sched['keep_steps']
    need(isinstance(keep, list) and all(isinstance(k, int) and not isinstance(k, bool)
                                        and k >= 1 for k in keep), 'schedule.keep_steps',
         'must be a list of step numbers >= 1', keep)
    need(config['loss']['aux_targets'] in AUX_TARGETS, 'loss.aux_targets',
         f'must be one of {", ".join(AUX_TARGETS)}', config['loss']['aux_targets'])
    need(config['loss']['language_weight'] >= 0, 'loss.language_weight', 'must be >= 0',
         config['loss']['language_weight'])
    grad = config['loss']['language_action_grad']
    need(0 <= grad <= 1, 'loss.language_action_grad', 'must be in [0, 1]', grad)
    need(grad == 1 or config['loss']['language_weight'] > 0, 'loss.language_action_grad',
         'below 1 needs the language probe (loss.language_weight > 0), which otherwise '
         'leaves the adapters untrained', grad)
    need(config['loss']['action'] in ACTION_LOSSES, 'loss.action',
         f'must be one of {", ".join(ACTION_LOSSES)}', config['loss']['action'])
    need(config['loss']['huber_delta'] > 0, 'loss.huber_delta', 'must be > 0',
         config['loss']['huber_delta'])
    need(0 <= config['augment']['hflip'] <= 1, 'augment.hflip', 'must be in [0, 1]',
         config['augment']['hflip'])
    need(0 < config['data']['val_fraction'] < 1, 'data.val_fraction', 'must be in (0, 1)',
         config['data']['val_fraction'])
    generate = config['data']['generate']
    base = (int(generate['seed']), int(generate['seed']) + int(generate['episodes']))
    problem = dagger.validate(config['dagger'], base)
    if problem:
        raise TrainConfigError(problem)
    need(not (config['dagger']['rounds'] and config['data']['lerobot']['root']),
         'dagger.rounds', 'must be 0 with robot data (no expert to label it)',
         config['dagger']['rounds'])
    need(config['data']['language'] in bc.LANGUAGES, 'data.language',
         f'must be one of {", ".join(bc.LANGUAGES)}', config['data']['language'])
    try:
        bins = model_config(config).head.bins
        need(not bins or config['loss']['action'] == 'mse', 'loss.action',
             f'must be mse with head.bins={bins} (a discretised head trains with the '
             'cross-entropy of its bins)', config['loss']['action'])
        need(config['data']['world_name'] in WORLDS, 'data.world_name',
             f'must be one of {", ".join(WORLDS)}', config['data']['world_name'])
        make_config(config['data']['world_name'], config['data']['world'])
        [bc.parse_size(t) for t in config['data']['render_sizes']]
    except (TypeError, ValueError) as exc:
        raise TrainConfigError(f'model or data.world: {exc}') from None


def _ensure(path: str, spec: Dict[str, Any], data_cfg: Dict[str, Any], chunk_size: int,
            image_size: int, log) -> Dict[str, np.ndarray]:
    """Load the dataset at ``path``; generate and save it first if it is missing."""
    if not os.path.isfile(path):
        log(f'{path} is missing: generating {spec["episodes"]} episodes from seed '
            f'{spec["seed"]}')
        name = data_cfg['world_name']
        data = dataset_parallel.generate_parallel(
            int(spec['episodes']), int(spec['seed']), workers=int(spec.get('workers', 1)),
            world_config=make_config(name, data_cfg['world']), world=name,
            noise_prob=float(spec.get('noise_prob', 0.5)),
            noise_std=tuple(spec.get('noise_std', (0.3, 1.0))), chunk_size=chunk_size,
            image_size=image_size, progress=True,
            render_sizes=[bc.parse_size(t) for t in data_cfg['render_sizes']])
        bc.save(path, data)
        return data
    return bc.load(path)


def prepare_data(config: Dict[str, Any], log=print, generate: bool = True):
    """
    Return ``(train, val, info)``: two :class:`BCDataset` views and a description.

    With ``data.lerobot.root`` the frames come from that LeRobot dataset instead
    (:mod:`vla_fusion_ros.train.lerobot_source`).

    With ``data.val_path`` the validation frames come from that file (VAL seeds); otherwise a
    ``val_fraction`` of the training *episodes* (never single frames) is held out.
    """
    cfg = config['data']
    model = model_config(config)
    chunk = model.head.chunk_size
    if cfg['lerobot']['root']:
        return lerobot_source.prepare(config, model.vision.image_size, chunk, log)
    if not generate and not os.path.isfile(cfg['path']):
        raise FileNotFoundError(cfg['path'])
    size = model_config(config).vision.image_size
    data = _ensure(cfg['path'], cfg['generate'], cfg, chunk, size, log)
    meta = json.loads(str(data['meta']))
    if meta.get('world_name', 'overhead') != cfg['world_name']:
        raise TrainConfigError(f'data.path: {cfg["path"]} holds the '
                               f'{meta.get("world_name", "overhead")} world, not '
                               f'data.world_name={cfg["world_name"]}')
    seeds = data['episode_seed']
    if seeds.size and int(seeds.max()) >= EVAL_SEED_START:
        raise TrainConfigError(f'data.path: {cfg["path"]} contains held-out evaluation seeds')
    if cfg['language'] == 'varied':
        data = bc.vary_language(data)
    info = {'path': cfg['path'], 'frames': int(len(data['images'])),
            'episodes': int(len(seeds)), 'meta': data['meta'].item(),
            'language': cfg['language'], 'instructions': int(len(data['instructions']))}
    if cfg['val_path']:
        val_data = _ensure(cfg['val_path'], {'noise_prob': 0.5, **cfg['val_generate']},
                           cfg, chunk, size, log)
        if cfg['language'] == 'varied':
            val_data = bc.vary_language(val_data)
        train = bc.BCDataset(data, chunk, image_format='float')
        val = bc.BCDataset(val_data, chunk, image_format='float')
        val.aux = aux_targets(val_data)
        info['val'] = {'path': cfg['val_path'], 'frames': len(val)}
    else:
        episodes = np.unique(data['episode'])
        rng = np.random.default_rng(0)  # the split never depends on the training seed
        held = rng.choice(episodes, size=max(1, int(len(episodes) * cfg['val_fraction'])),
                          replace=False)
        is_val = np.isin(data['episode'], held)
        train = bc.BCDataset(data, chunk, 'float', np.flatnonzero(~is_val))
        val = bc.BCDataset(data, chunk, 'float', np.flatnonzero(is_val))
        val.aux = aux_targets(data)
        info['val'] = {'held_out_episodes': int(len(held)), 'frames': len(val)}
    train.aux = aux_targets(data)
    info['train_frames'] = len(train)
    return train, val, info


def dump(config: Dict[str, Any]) -> str:
    """Return the resolved config as YAML text."""
    return yaml.safe_dump(config, sort_keys=False)


def parse_overrides(items: Optional[List[str]]) -> List[str]:
    """Flatten ``--set a=1 b=2 --set c=3`` into one list."""
    return [item for group in (items or []) for item in group]
