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
a global batch from a permutation of the training frames (whole episodes for a model with
memory) that depends only on the seed and the epoch; under torchrun every process takes its
share of that batch (:mod:`vla_fusion_ros.train.batches`; gloo on CPU, DistributedDataParallel
averages the gradients), so N processes follow the same trajectory as one, up to float
summation order. Only rank 0 validates and writes. The loss is the MSE between the model's
normalised actions and the expert's (divided by ``head.action_scale``). With ``dagger.rounds``
the policy drives training scenes and its frames, labelled by the expert, join the data.

Output (``--out``): ``config.yaml`` (resolved), ``log.jsonl``, ``best.safetensors`` (lowest
validation loss, or highest closed-loop success on validation seeds when ``eval.val_episodes``
> 0), ``last.safetensors``, ``model.safetensors`` (the best, or the last when it does better
on ``eval.select_episodes`` more validation scenes, :mod:`.selection`; with the final
evaluation in its metadata), ``summary.json``, ``state/`` for ``--resume``, and
``step_<n>.safetensors`` for each step of ``schedule.keep_steps`` (one run at several steps).
A ``SIGTERM`` saves ``state/`` at the step in progress and exits 143; ``--resume`` goes on.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm
from vla_fusion_ros.data.lerobot_dataset import DatasetFormatError
from vla_fusion_ros.model import load_checkpoint, save_checkpoint, VLAPolicy
from vla_fusion_ros.model.language import create_tokenizer
from vla_fusion_ros.model.network import FusionModel
from vla_fusion_ros.sim.base import VAL_CLOSED_LOOP_SEED_START
from vla_fusion_ros.train import dagger, lerobot_source, losses, selection
from vla_fusion_ros.train import train_config as tc
from vla_fusion_ros.train.aux import PolicyWithProbe, probe_loss
from vla_fusion_ros.train.batches import Batches
from vla_fusion_ros.train.episodes import EpisodeBatcher
from vla_fusion_ros.train.evaluate import evaluate_in_process, held_out
from vla_fusion_ros.train.text_inputs import (check_resume_kind, instruction_table, is_frozen,
                                              training_tables)
from vla_fusion_ros.train.train_state import (batch_indices, commands_before, learning_rate,
                                              load_average, load_state, parameter_groups,
                                              save_state, StopRequest)


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
        self.stopped = False  # a SIGTERM stopped the run, its state saved (StopRequest)
        self.created = time.monotonic()  # the command's wall time: data, training, evaluation
        self.lerobot = bool(config['data']['lerobot']['root'])
        if self.lerobot:
            lerobot_source.adapt_config(config, self.log)  # head, hflip, aux: before the model
        self.model_config = tc.model_config(config)
        self.model = FusionModel(self.model_config)
        self.memory_format = (torch.channels_last if config['channels_last']
                              else torch.contiguous_format)
        self.model.to(memory_format=self.memory_format)
        self.rounds = dagger.Rounds(config, out, self.rank, self.world)
        self.aux_weight = float(config['loss']['aux_weight'])
        # The language probe: not for a vision-only model, which has no language features.
        language = config['loss']['language_weight'] > 0 and hasattr(self.model, 'adapters')
        self.action_loss = losses.action_loss(config['loss'], self.model_config.head.bins)
        self.trainable = (PolicyWithProbe(self.model, config['seed'], language,
                                          config['loss']['language_action_grad'])
                          if self.aux_weight > 0 or language else self.model)
        self.net = (torch.nn.parallel.DistributedDataParallel(self.trainable)
                    if self.world > 1 else self.trainable)
        optim = config['optim']
        self.optimizer = torch.optim.AdamW(
            parameter_groups(self.trainable, optim['weight_decay']), lr=optim['lr'],
            betas=tuple(optim['betas']))
        self.tokenizer = create_tokenizer(self.model_config.language)
        # A frozen pretrained encoder runs once per unique instruction, before training.
        self.frozen, self.encode_seconds = is_frozen(self.model_config), 0.0
        self.scale = torch.tensor(self.model_config.head.action_scale)
        self.batches = Batches(config, self.scale, self.rank, self.world)
        self.state: Dict[str, Any] = {'step': 0, 'history': [], 'best': None,
                                      'wall_time_s': 0.0}

    def log(self, text: str) -> None:
        if self.rank == 0:
            tqdm.write(text) if self.progress else print(text, flush=True)

    def _record(self, entry: Dict[str, Any]) -> None:
        self.state['history'].append(entry)
        with open(os.path.join(self.out, 'log.jsonl'), 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(entry) + '\n')

    def _loss(self, inputs):
        """Return the action loss (plus the probe's) of a batch of frames or episodes."""
        images, language, target, aux = inputs[:4]
        images = images.contiguous(memory_format=self.memory_format)
        episodes = dict(zip(('slots', 'previous'), inputs[4:]))
        if self.trainable is not self.model:
            actions, aux_pred, named = self.net(images, **language, **episodes)
            return self.action_loss(actions, target) + probe_loss(
                aux_pred, named, aux, self.config['loss'])
        if episodes:
            return self.action_loss(self._episodes(images, language, **episodes), target)
        return self.action_loss(self.net(images, **language), target)

    def _episodes(self, images, language, slots, previous):
        rest = dict(language)  # cache, or colours
        return self.model.forward_episodes(images, rest.pop('token_ids', None),
                                           rest.pop('mask', None), slots, previous, **rest)

    def validate(self, val, val_table) -> Dict[str, Any]:
        """Return the validation loss (and closed-loop success on validation seeds)."""
        self.model.eval()
        count, total = min(len(val), int(self.config['data']['val_max_frames'])), 0.0
        with torch.no_grad():
            if self.model_config.head.memory:
                batcher, count = EpisodeBatcher(val, 1, 0, self.scale), 0
                for first in range(0, len(batcher), 8):
                    chosen = list(range(first, min(len(batcher), first + 8)))
                    images, language, target, _, slots, previous = self.batches.episodes(
                        batcher, val_table, chosen)[0]
                    actions = self._episodes(images, language, slots, previous)
                    total += F.mse_loss(actions, target,
                                        reduction='sum').item() / target[0].numel()
                    count += len(target)
                    if count >= int(self.config['data']['val_max_frames']):
                        break
            for first in range(0, count if not self.model_config.head.memory else 0, 256):
                index = torch.arange(first, min(count, first + 256))
                images, language, target, _ = self.batches.frames(val, val_table, index)
                total += F.mse_loss(self.model(images, **language), target,
                                    reduction='sum').item() / target[0].numel()
        result = {'val_loss': total / count}
        episodes = int(self.config['eval']['val_episodes'])
        if episodes > 0:
            policy = VLAPolicy(self.model_config, self.tokenizer, self.model)
            summary = evaluate_in_process(policy, episodes, VAL_CLOSED_LOOP_SEED_START,
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
            'threads': torch.get_num_threads(), 'load_average': load_average(hist),
            'train_loss': hist[-1]['loss'] if hist else None, 'best': self.state['best'],
            'data': {k: v for k, v in info.items() if k != 'meta'},
            'world_name': self.config['data']['world_name'],
            'world': json.loads(info['meta']).get('world'), 'config': training,
            'language_kind': self.model_config.language.kind,
            'text_encode_s': round(self.encode_seconds, 1),
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
        if self.model_config.head.memory and self.world > 1 and not self.aux_weight:
            raise tc.TrainConfigError('loss.aux_weight: a model with memory trains under '
                                      'torchrun only with the probe (aux_weight > 0)')
        batcher = self._batcher(train)
        per_epoch = len(train) // batch if batcher is None else batcher.steps_per_epoch()
        if per_epoch < 1:
            raise tc.TrainConfigError(f'schedule.batch_size: {batch} exceeds the '
                                      f'{len(train)} training frames')
        total = int(sched['steps']) or int(math.ceil(sched['epochs'] * per_epoch))
        loaded = None
        if resume:
            check_resume_kind(self.out, self.model_config)
            loaded = load_state(os.path.join(self.out, 'state'), self.trainable,
                                self.optimizer)
            if loaded is not None:
                self.state = loaded['state']
                self.created -= commands_before(self.state, self.out)
                if loaded['config'] != cfg:
                    self.log('warning: resuming with a config that differs from the saved one')
                self.log(f'resumed at step {self.state["step"]} of {total}')
        if loaded is None and self.rank == 0 and os.path.exists(
                os.path.join(self.out, 'log.jsonl')):
            os.remove(os.path.join(self.out, 'log.jsonl'))  # a fresh start: no stale log
        if self.rank == 0:
            with open(os.path.join(self.out, 'config.yaml'), 'w', encoding='utf-8') as handle:
                handle.write(tc.dump(cfg))
        if self.state.get('dagger_rounds'):  # resumed: the rounds' frames join again
            self.rounds.add(train, info, range(self.state['dagger_rounds']))
            batcher = self._batcher(train)
        self.tokenizer, table, val_table = training_tables(self, train, val)
        self.encode_seconds = table['seconds'] + val_table['seconds']
        self.model.train()
        started = time.monotonic() - self.state['wall_time_s']
        bar = tqdm(total=total, initial=self.state['step'], desc='train', unit='step',
                   disable=not self.progress, dynamic_ncols=True)
        window, stop = [], StopRequest(enabled=self.world == 1)
        try:
            while self.state['step'] < total:
                step = self.state['step']
                due = self.rounds.due(step, self.state.get('dagger_rounds', 0))
                if due:
                    self._dagger(train, info, due)
                    table = instruction_table(self.model, self.tokenizer, train.instructions,
                                              self.frozen, self.log)
                    batcher = self._batcher(train)
                loss, lr = self._step(step, total, train, table, batcher)
                self.state['step'] = step = step + 1
                window.append(loss)
                bar.update(1)
                if self.rank == 0 and (step % sched['log_every'] == 0 or step == total):
                    self.state['wall_time_s'] = time.monotonic() - started
                    self._record({'step': step, 'loss': sum(window) / len(window), 'lr': lr,
                                  'epoch': round(step / per_epoch, 3),
                                  'wall_time_s': round(self.state['wall_time_s'], 1),
                                  'load': round(os.getloadavg()[0], 2)})
                    bar.set_postfix(loss=f'{sum(window) / len(window):.4f}')
                    window = []
                pause = step < total and (stop.requested
                                          or bool(stop_after and step >= stop_after))
                if (step % sched['val_every'] == 0 or step == total or pause
                        or step in sched['keep_steps']):
                    self._checkpoint(val, val_table, info, total, started)
                if pause:
                    self.stopped = stop.requested
                    self.log(f'{"stopped by SIGTERM" if stop.requested else "paused"} at step '
                             f'{step} of {total}: continue with --resume')
                    bar.close()
                    return {}
        finally:
            stop.close()
        bar.close()
        return self._finish(info, total)

    def _step(self, step: int, total: int, train, table, batcher) -> Tuple[float, float]:
        """Take one optimiser step on the step's batch; return its loss and learning rate."""
        cfg = self.config
        lr = learning_rate(step, total, cfg['schedule'], cfg['optim']['lr'])
        for group in self.optimizer.param_groups:
            group['lr'] = lr
        if batcher is None:
            index = batch_indices(step, int(cfg['schedule']['batch_size']), len(train),
                                  cfg['seed'])
            loss, weight = self._loss(self.batches.frames(train, table, index, step)), 1.0
        else:
            inputs, weight = self.batches.episodes(batcher, table, batcher.pick(step), step)
            loss = self._loss(inputs)
        self.optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()
        if cfg['optim']['grad_clip']:
            torch.nn.utils.clip_grad_norm_(self.trainable.parameters(), cfg['optim']['grad_clip'])
        self.optimizer.step()
        return loss.item(), lr

    def _batcher(self, train) -> Optional[EpisodeBatcher]:
        """Whole-episode batches for a model with memory; ``None``: frame batches."""
        if not self.model_config.head.memory:
            return None
        return EpisodeBatcher(train, int(self.config['schedule']['batch_size']),
                              self.config['seed'], self.scale, multiple=self.world)

    def _dagger(self, train, info, rounds) -> None:
        """Run DAgger rounds with the current weights; their frames join ``train``."""
        policy = VLAPolicy(self.model_config, self.tokenizer, self.model)
        for entry in self.rounds.add(train, info, rounds, policy,
                                     dist.barrier if self.world > 1 else None):
            entry['step'] = self.state['step']
            self.state['dagger_rounds'] = entry['dagger_round'] + 1
            if self.rank == 0:
                self._record(entry)
                self.log(dagger.describe(entry, len(train)))
        self.model.train()

    def _checkpoint(self, val, val_table, info, total: int, started: float) -> None:
        if self.rank == 0:
            result = {'step': self.state['step'], **self.validate(val, val_table)}
            self.state['wall_time_s'] = time.monotonic() - started
            self.state['command_wall_time_s'] = time.monotonic() - self.created
            self._record(result)
            self.log(f'step {result["step"]}: ' + ', '.join(
                f'{k} {v:.4f}' for k, v in result.items() if k != 'step'))
            if self._better(result):
                self.state['best'] = result
                self.save('best.safetensors', self.metadata(info, total))
            self.save('last.safetensors', self.metadata(info, total))
            if self.state['step'] in self.config['schedule']['keep_steps']:
                self.save(f'step_{self.state["step"]}.safetensors', self.metadata(info, total))
            save_state(os.path.join(self.out, 'state'), self.trainable, self.optimizer,
                       {'state': self.state, 'config': self.config})
        if self.world > 1:
            dist.barrier()

    def _finish(self, info, total: int) -> Dict[str, Any]:
        summary: Dict[str, Any] = {}
        if self.rank == 0:
            world = self.config['data']['world_name']
            shipped, chosen = selection.choose(self.out, self.state,
                                               selection.episodes(self.config['eval']), world,
                                               self.log)
            final = os.path.join(self.out, 'model.safetensors')
            shutil.copyfile(shipped, final)
            metadata = self.metadata(info, total)
            if chosen is not None:
                metadata['training']['selection'] = chosen
            episodes = int(self.config['eval']['episodes'])
            if episodes > 0:
                metadata['eval'], metadata['eval_uninformed'] = held_out(
                    VLAPolicy.from_checkpoint(shipped), episodes, world, self.log)
                model = load_checkpoint(shipped)[0]
                save_checkpoint(final, model, self.tokenizer, self.model_config, metadata)
            metadata['training']['command_wall_time_s'] = round(time.monotonic() - self.created)
            summary = metadata
            with open(os.path.join(self.out, 'summary.json'), 'w', encoding='utf-8') as handle:
                json.dump(summary, handle, indent=1)
        if self.world > 1:
            dist.barrier()
            dist.destroy_process_group()
        return summary


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
        dataset = lerobot_source.overrides(args.dataset, args.image_key, args.action_key,
                                           args.task_key)
        config = tc.load_config(args.config, dataset + tc.parse_overrides(args.set))
        trainer = Trainer(config, args.out, progress=not args.no_progress)
        trainer.run(resume=args.resume, stop_after=args.stop_after)
    except (tc.TrainConfigError, FileNotFoundError, DatasetFormatError) as exc:
        print(f'train: {exc}', file=sys.stderr)
        return 2
    return 143 if trainer.stopped else 0  # 128 + SIGTERM, as if the signal had ended it


if __name__ == '__main__':
    sys.exit(main())
