# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Train a fusion policy by behaviour cloning: config-driven, resumable, deterministic, DDP-ready.

::

    python -m vla_fusion_ros.train.train --config config/train_overhead.yaml --out runs/overhead
    python -m vla_fusion_ros.train.train --out runs/x --resume --set schedule.steps=2000
    python -m vla_fusion_ros.train.train --dataset DATASET --out runs/robot
    torchrun --nproc_per_node 2 -m vla_fusion_ros.train.train --config ... --out ...

The dataset is generated first when its file is missing. With ``--dataset`` the frames come from
a LeRobotDataset v3 folder instead (:mod:`vla_fusion_ros.train.lerobot_source`). Each step draws
a global batch from a permutation of the training frames that depends only on the seed and the
epoch; under torchrun every process takes its share of that batch (gloo on CPU,
DistributedDataParallel averages the gradients), so N processes follow the same trajectory as
one, up to float summation order. Only rank 0 validates and writes. The loss is the MSE between
the model's normalised actions and the expert's (divided by ``head.action_scale``).

Output (``--out``): ``config.yaml`` (resolved), ``log.jsonl``, ``best.safetensors`` (lowest
validation loss, or highest closed-loop success on validation seeds when ``eval.val_episodes``
> 0), ``last.safetensors``, ``model.safetensors`` (the best, with the final evaluation in its
metadata), ``summary.json`` and ``state/`` for ``--resume``.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from vla_fusion_ros.data.lerobot_dataset import DatasetFormatError
from vla_fusion_ros.model import load_checkpoint, save_checkpoint, Tokenizer, VLAPolicy
from vla_fusion_ros.model.network import FusionModel
from vla_fusion_ros.sim.base import EVAL_SEED_START, VAL_SEED_START
from vla_fusion_ros.train import lerobot_source
from vla_fusion_ros.train import train_config as tc
from vla_fusion_ros.train.aux import mirror, PolicyWithProbe
from vla_fusion_ros.train.episodes import EpisodeBatcher
from vla_fusion_ros.train.evaluate import (evaluate_in_process, format_summary,
                                           UNINFORMATIVE_INSTRUCTION)
from vla_fusion_ros.train.train_state import (batch_indices, learning_rate, load_state,
                                              parameter_groups, save_state)


class Trainer:
    """One training run (one process of it, under torchrun)."""

    def __init__(self, config: Dict[str, Any], out: str, progress: bool = True):
        self.config, self.out = config, out
        self.rank, self.world = 0, int(os.environ.get('WORLD_SIZE', '1'))
        if self.world > 1:
            dist.init_process_group('gloo')
            self.rank = dist.get_rank()
        if config['threads']:
            torch.set_num_threads(int(config['threads']))
        self.progress = progress and self.rank == 0
        self.lerobot = bool(config['data']['lerobot']['root'])
        if self.lerobot:
            lerobot_source.adapt_config(config, self.log)  # head, hflip, aux: before the model
        self.model_config = tc.model_config(config)
        self.model = FusionModel(self.model_config)
        self.aux_weight = float(config['loss']['aux_weight'])
        self.trainable = (PolicyWithProbe(self.model, config['seed']) if self.aux_weight > 0
                          else self.model)
        self.net = (torch.nn.parallel.DistributedDataParallel(self.trainable)
                    if self.world > 1 else self.trainable)
        optim = config['optim']
        self.optimizer = torch.optim.AdamW(
            parameter_groups(self.trainable, optim['weight_decay']), lr=optim['lr'],
            betas=tuple(optim['betas']))
        self.tokenizer = Tokenizer(max_length=self.model_config.language.max_length)
        self.scale = torch.tensor(self.model_config.head.action_scale)
        self.state: Dict[str, Any] = {'step': 0, 'history': [], 'best': None,
                                      'wall_time_s': 0.0}

    def log(self, text: str) -> None:
        if self.rank == 0:
            tqdm.write(text) if self.progress else print(text, flush=True)

    def _record(self, entry: Dict[str, Any]) -> None:
        self.state['history'].append(entry)
        with open(os.path.join(self.out, 'log.jsonl'), 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(entry) + '\n')

    def _tokens(self, dataset):
        ids, mask = self.tokenizer.encode(dataset.instructions)  # [I, T] each
        return {text: row for row, text in enumerate(dataset.instructions)}, ids, mask

    def _batch(self, dataset, table, index: torch.Tensor, step: Optional[int] = None):
        """
        Return model inputs and targets for this process's share of the batch ``index``.

        With ``step``, the batch is augmented; the flips are drawn for the whole global batch
        so that every process count sees the same augmentation.
        """
        if step is not None:
            global_index = index
            local = len(index) // self.world
            index = index[self.rank * local:(self.rank + 1) * local]
        images, texts, actions = dataset.get_batch(index)  # [B, 3, S, S], [B, k, 2]
        rows = torch.tensor([table[0][t] for t in texts])
        target = (actions / self.scale).clamp(-1.0, 1.0)  # normalised labels
        aux = None if dataset.aux is None else dataset.aux[
            index if dataset.indices is None else dataset.indices[index]]
        if step is not None and self.config['augment']['hflip'] > 0:
            gen = torch.Generator().manual_seed(self.config['seed'] * 7_919 + step)
            flip = torch.rand(len(global_index), generator=gen) < self.config['augment']['hflip']
            flip = flip[self.rank * local:(self.rank + 1) * local]
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
            target = target.clone()
            target[flip, :, 1:] *= -1.0  # mirrored world: angular_z changes sign
            aux = None if aux is None else torch.where(flip[:, None], mirror(aux), aux)
        return images, table[1][rows], table[2][rows], target, aux

    def _episode_batch(self, batcher: EpisodeBatcher, table, chosen, step: Optional[int]):
        """Model inputs and targets for whole episodes (a model with memory)."""
        flip = None
        if step is not None and self.config['augment']['hflip'] > 0:
            gen = torch.Generator().manual_seed(self.config['seed'] * 7_919 + step)
            flip = torch.rand(len(chosen), generator=gen) < self.config['augment']['hflip']
        images, texts, target, items, slots, previous = batcher.batch(chosen, flip)
        dataset = batcher.dataset
        aux = dataset.aux[items if dataset.indices is None else dataset.indices[items]]
        if flip is not None:
            per_frame = torch.repeat_interleave(
                flip, torch.bincount(slots // previous.shape[1], minlength=len(chosen)))
            aux = torch.where(per_frame[:, None], mirror(aux), aux)
        rows = torch.tensor([table[0][t] for t in texts])
        return images, table[1][rows], table[2][rows], target, aux, slots, previous

    def _loss(self, inputs):
        """Return the action loss (plus the probe's) of a batch from :meth:`_batch` or episodes."""
        images, ids, mask, target, aux = inputs[:5]
        extra = tuple(inputs[5:])
        if self.aux_weight > 0:
            actions, aux_pred = self.net(images, ids, mask, *extra)
            return F.mse_loss(actions, target) + self.aux_weight * F.mse_loss(aux_pred, aux)
        if extra:
            return F.mse_loss(self.model.forward_episodes(images, ids, mask, *extra), target)
        return F.mse_loss(self.net(images, ids, mask), target)

    def validate(self, val, val_table) -> Dict[str, Any]:
        """Return the validation loss (and closed-loop success on validation seeds)."""
        self.model.eval()
        count = min(len(val), int(self.config['data']['val_max_frames']))
        total = 0.0
        with torch.no_grad():
            if self.model_config.head.memory:
                batcher, count = EpisodeBatcher(val, 1, 0, self.scale), 0
                for first in range(0, len(batcher), 8):
                    chosen = list(range(first, min(len(batcher), first + 8)))
                    images, ids, mask, target, _, slots, previous = self._episode_batch(
                        batcher, val_table, chosen, None)
                    actions = self.model.forward_episodes(images, ids, mask, slots, previous)
                    total += F.mse_loss(actions, target,
                                        reduction='sum').item() / target[0].numel()
                    count += len(target)
                    if count >= int(self.config['data']['val_max_frames']):
                        break
            for first in range(0, count if not self.model_config.head.memory else 0, 256):
                index = torch.arange(first, min(count, first + 256))
                images, ids, mask, target, _ = self._batch(val, val_table, index)
                total += F.mse_loss(self.model(images, ids, mask), target,
                                    reduction='sum').item() / target[0].numel()
        result = {'val_loss': total / count}
        episodes = int(self.config['eval']['val_episodes'])
        if episodes > 0:
            policy = VLAPolicy(self.model_config, self.tokenizer, self.model)
            summary = evaluate_in_process(policy, episodes, VAL_SEED_START + 50_000,
                                          world=self.config['data']['world_name'])
            result['val_success'] = summary['success_rate']
        self.model.train()
        return result

    def _better(self, result: Dict[str, Any]) -> bool:
        best = self.state['best']
        key = lambda r: (r.get('val_success', 0.0), -r['val_loss'])  # noqa: E731
        return best is None or key(result) > key(best)

    def save(self, name: str, metadata: Dict[str, Any]) -> str:
        path = os.path.join(self.out, name)
        save_checkpoint(path, self.model, self.tokenizer, self.model_config, metadata)
        return path

    def metadata(self, info, total: int) -> Dict[str, Any]:
        hist = [h for h in self.state['history'] if 'loss' in h]
        training = {k: v for k, v in self.config.items() if k != 'model'}
        return {'training': {
            'steps': self.state['step'], 'total_steps': total, 'processes': self.world,
            'wall_time_s': round(self.state['wall_time_s'], 1),
            'train_loss': hist[-1]['loss'] if hist else None, 'best': self.state['best'],
            'data': {k: v for k, v in info.items() if k != 'meta'},
            'world_name': self.config['data']['world_name'],
            'world': json.loads(info['meta']).get('world'), 'config': training,
            'torch': torch.__version__}}

    def run(self, resume: bool = False, stop_after: int = 0) -> Dict[str, Any]:
        """Train to the configured step count (or pause after ``stop_after`` steps)."""
        cfg, sched = self.config, self.config['schedule']
        if self.rank == 0:
            os.makedirs(self.out, exist_ok=True)
        if self.world > 1:
            dist.barrier()  # rank 0 generates missing data; the others wait, then load it
        train, val, info = tc.prepare_data(cfg, self.log) if self.rank == 0 else (None,) * 3
        if self.world > 1:
            dist.barrier()
            if self.rank:
                train, val, info = tc.prepare_data(cfg, self.log, generate=False)
        batch = int(sched['batch_size'])
        if batch % self.world:
            raise tc.TrainConfigError(f'schedule.batch_size: {batch} is not divisible by '
                                      f'the {self.world} processes')
        batcher = None
        if self.model_config.head.memory:
            if self.world > 1:
                raise tc.TrainConfigError('head.memory: training a model with memory runs in '
                                          'one process (no torchrun)')
            batcher = EpisodeBatcher(train, batch, cfg['seed'], self.scale)
        per_epoch = len(train) // batch if batcher is None else batcher.steps_per_epoch()
        if per_epoch < 1:
            raise tc.TrainConfigError(f'schedule.batch_size: {batch} exceeds the '
                                      f'{len(train)} training frames')
        total = int(sched['steps']) or int(math.ceil(sched['epochs'] * per_epoch))
        loaded = None
        if resume:
            loaded = load_state(os.path.join(self.out, 'state'), self.trainable,
                                self.optimizer)
            if loaded is not None:
                self.state = loaded['state']
                if loaded['config'] != cfg:
                    self.log('warning: resuming with a config that differs from the saved one')
                self.log(f'resumed at step {self.state["step"]} of {total}')
        if loaded is None and self.rank == 0 and os.path.exists(
                os.path.join(self.out, 'log.jsonl')):
            os.remove(os.path.join(self.out, 'log.jsonl'))  # a fresh start: no stale log
        if self.rank == 0:
            with open(os.path.join(self.out, 'config.yaml'), 'w', encoding='utf-8') as handle:
                handle.write(tc.dump(cfg))
        if self.lerobot:  # the default words plus the dataset's own
            language = self.model_config.language
            self.tokenizer = lerobot_source.tokenizer_for(
                train.instructions, language.max_length, language.vocab_size, self.log)
        table, val_table = self._tokens(train), self._tokens(val)
        self.model.train()
        started = time.monotonic() - self.state['wall_time_s']
        bar = tqdm(total=total, initial=self.state['step'], desc='train', unit='step',
                   disable=not self.progress, dynamic_ncols=True)
        window = []
        while self.state['step'] < total:
            step = self.state['step']
            lr = learning_rate(step, total, sched, cfg['optim']['lr'])
            for group in self.optimizer.param_groups:
                group['lr'] = lr
            if batcher is None:
                index = batch_indices(step, batch, len(train), cfg['seed'])
                loss = self._loss(self._batch(train, table, index, step))
            else:
                loss = self._loss(self._episode_batch(batcher, table, batcher.pick(step), step))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg['optim']['grad_clip']:
                torch.nn.utils.clip_grad_norm_(self.trainable.parameters(),
                                               cfg['optim']['grad_clip'])
            self.optimizer.step()
            self.state['step'] = step = step + 1
            window.append(loss.item())
            bar.update(1)
            if self.rank == 0 and (step % sched['log_every'] == 0 or step == total):
                self.state['wall_time_s'] = time.monotonic() - started
                self._record({'step': step, 'loss': sum(window) / len(window), 'lr': lr,
                              'epoch': round(step / per_epoch, 3),
                              'wall_time_s': round(self.state['wall_time_s'], 1)})
                bar.set_postfix(loss=f'{sum(window) / len(window):.4f}')
                window = []
            pause = stop_after and step >= stop_after and step < total
            if step % sched['val_every'] == 0 or step == total or pause:
                self._checkpoint(val, val_table, info, total, started)
            if pause:
                self.log(f'paused at step {step} of {total}: continue with --resume')
                bar.close()
                return {}
        bar.close()
        return self._finish(info, total)

    def _checkpoint(self, val, val_table, info, total: int, started: float) -> None:
        if self.rank == 0:
            result = {'step': self.state['step'], **self.validate(val, val_table)}
            self.state['wall_time_s'] = time.monotonic() - started
            self._record(result)
            self.log(f'step {result["step"]}: ' + ', '.join(
                f'{k} {v:.4f}' for k, v in result.items() if k != 'step'))
            if self._better(result):
                self.state['best'] = result
                self.save('best.safetensors', self.metadata(info, total))
            self.save('last.safetensors', self.metadata(info, total))
            save_state(os.path.join(self.out, 'state'), self.trainable, self.optimizer,
                       {'state': self.state, 'config': self.config})
        if self.world > 1:
            dist.barrier()

    def _finish(self, info, total: int) -> Dict[str, Any]:
        summary: Dict[str, Any] = {}
        if self.rank == 0:
            best = os.path.join(self.out, 'best.safetensors')
            final = os.path.join(self.out, 'model.safetensors')
            shutil.copyfile(best, final)
            metadata = self.metadata(info, total)
            episodes = int(self.config['eval']['episodes'])
            if episodes > 0:
                policy = VLAPolicy.from_checkpoint(best)
                world = self.config['data']['world_name']
                result = evaluate_in_process(policy, episodes, EVAL_SEED_START, world=world)
                floor = evaluate_in_process(policy, episodes, EVAL_SEED_START, world=world,
                                            instruction=UNINFORMATIVE_INSTRUCTION)
                result.pop('reports')
                floor.pop('reports')
                metadata['eval'] = result
                metadata['eval_uninformed'] = floor
                self.log(format_summary(f'held-out {world} scenes', result))
                self.log(format_summary(f'  floor: same policy told "{UNINFORMATIVE_INSTRUCTION}"',
                                        floor))
                self.log('  floor: the vision-only model of the same recipe: train it with '
                         '--set model.fusion.mode=vision_only and evaluate with --vision-only')
                model = load_checkpoint(best)[0]
                save_checkpoint(final, model, self.tokenizer, self.model_config, metadata)
            summary = metadata
            with open(os.path.join(self.out, 'summary.json'), 'w', encoding='utf-8') as handle:
                json.dump(summary, handle, indent=1)
        if self.world > 1:
            dist.barrier()
            dist.destroy_process_group()
        return summary


def dataset_overrides(args: argparse.Namespace) -> List[str]:
    """Return the config overrides that ``--dataset`` and its keys stand for."""
    if not args.dataset:
        return []
    values = {'data.lerobot.root': args.dataset, 'data.lerobot.image_key': args.image_key,
              'data.lerobot.action_key': args.action_key,
              'data.lerobot.task_key': args.task_key}
    return ([f'{key}={json.dumps(value)}' for key, value in values.items()]
            + ['eval.val_episodes=0', 'eval.episodes=0'])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Train from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--config', default='config/train_overhead.yaml')
    parser.add_argument('--out', default='runs/overhead')
    parser.add_argument('--resume', action='store_true', help='continue from <out>/state')
    parser.add_argument('--set', nargs='+', action='append', metavar='KEY=VALUE',
                        help='override config keys, e.g. model.fusion.operator=film')
    parser.add_argument('--stop-after', type=int, default=0, metavar='STEP',
                        help='save the state and stop at this step (continue with --resume)')
    parser.add_argument('--no-progress', action='store_true')
    robot = parser.add_argument_group(
        'robot data: train from a LeRobotDataset v3 folder (the closed-loop evaluations in the '
        'simulated world are then off unless set with --set eval.val_episodes=N eval.episodes=N)')
    robot.add_argument('--dataset', metavar='DIR', help='the LeRobotDataset v3 folder')
    robot.add_argument('--image-key', default='',
                       help='camera feature (default: the only one, observation.images.*)')
    robot.add_argument('--action-key', default='action')
    robot.add_argument('--task-key', default='task',
                       help="'task' (task_index and meta/tasks) or a string feature")
    args = parser.parse_args(argv)
    try:
        config = tc.load_config(args.config, dataset_overrides(args)
                                + tc.parse_overrides(args.set))
        trainer = Trainer(config, args.out, progress=not args.no_progress)
        trainer.run(resume=args.resume, stop_after=args.stop_after)
    except (tc.TrainConfigError, FileNotFoundError, DatasetFormatError) as exc:
        print(f'train: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
