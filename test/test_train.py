# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The training CLI: a tiny end-to-end run, determinism, resume, DDP on 2 CPU processes, config.

Every run here uses a model of a few thousand parameters and a dataset of a dozen episodes, so
the whole file takes seconds; what it checks does not depend on the size.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.torch import load_file
import torch
from vla_fusion_ros.model import VLAPolicy
from vla_fusion_ros.sim.registry import make_world
from vla_fusion_ros.sim.shapes import COLORS, SHAPES
from vla_fusion_ros.train import evaluate, train, train_config
from vla_fusion_ros.train.aux import mirror
from vla_fusion_ros.train.train_state import StopRequest

from conftest import edited_config, tiny_model, tiny_training_config  # noqa: I100

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TINY_MODEL = tiny_model()


def tiny_config(tmp_path, **schedule):
    """Write a tiny training config (closed loop on 2 validation, 3 test scenes); its path."""
    return str(tiny_training_config(
        tmp_path, TINY_MODEL,
        data={'generate': {'episodes': 12, 'seed': 0}, 'val_max_frames': 64},
        schedule={'batch_size': 16, 'steps': 6, 'warmup_steps': 2, 'val_every': 3, **schedule},
        eval={'val_episodes': 2, 'episodes': 3}))


def weights(path):
    return load_file(path)


def assert_same(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=atol, rtol=0), key


def test_tiny_run_from_training_to_evaluation(tmp_path):
    config = tiny_config(tmp_path)
    out = tmp_path / 'run'
    assert train.main(['--config', config, '--out', str(out), '--no-progress']) == 0
    for name in ('model.safetensors', 'best.safetensors', 'last.safetensors', 'config.yaml',
                 'log.jsonl', 'summary.json', 'state/state.json'):
        assert (out / name).exists(), name
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['training']['steps'] == 6 and summary['eval']['episodes'] == 3
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['step'] for e in log if 'val_loss' in e] == [3, 6]
    assert all(e['loss'] > 0 for e in log if 'loss' in e)

    policy = VLAPolicy.from_checkpoint(str(out / 'model.safetensors'))
    assert policy.config.vision.width == 8 and policy.config.seed == 3
    report = tmp_path / 'eval.json'
    assert evaluate.main(['--checkpoint', str(out / 'model.safetensors'), '--episodes', '3',
                          '--json', str(report), '--no-progress']) == 0
    result = json.loads(report.read_text())['in_process']
    assert result['episodes'] == 3 and len(result['reports']) == 3
    # The evaluation in the checkpoint's metadata is the same run on the same seeds.
    assert result['successes'] == summary['eval']['successes']


def test_same_seed_same_weights_and_resume_is_exact(tmp_path, capsys):
    config = tiny_config(tmp_path, steps=6)
    with edited_config(config) as data:
        data['eval'] = {'val_episodes': 0, 'episodes': 0}  # weights only: no closed loop here
    for name in ('a', 'b'):
        assert train.main(['--config', config, '--out', str(tmp_path / name),
                           '--no-progress']) == 0
    # Interrupted after 4 steps, then resumed: the same weights as the uninterrupted run.
    paused = str(tmp_path / 'paused')
    assert train.main(['--config', config, '--out', paused, '--stop-after', '4',
                       '--no-progress']) == 0
    assert not os.path.exists(os.path.join(paused, 'summary.json'))
    # Resuming with another model is refused before training, naming the key (exit 2).
    assert train.main(['--config', config, '--out', paused, '--resume', '--no-progress',
                       '--set', 'model.fusion.heads=1']) == 2
    assert 'model.fusion.heads was 2, now 1' in capsys.readouterr().err
    assert train.main(['--config', config, '--out', paused, '--resume', '--no-progress']) == 0
    reference = weights(str(tmp_path / 'a' / 'last.safetensors'))
    assert_same(reference, weights(str(tmp_path / 'b' / 'last.safetensors')))
    assert_same(reference, weights(os.path.join(paused, 'last.safetensors')))
    # Another seed gives other weights.
    assert train.main(['--config', config, '--out', str(tmp_path / 'c'), '--no-progress',
                       '--set', 'seed=4']) == 0
    other = weights(str(tmp_path / 'c' / 'last.safetensors'))
    assert any(not torch.equal(reference[k], other[k]) for k in reference)


def test_sigterm_saves_the_state_at_the_step_in_progress_and_resume_goes_on(tmp_path):
    # No validation or kept step would save a state before step 100,000: what is saved after
    # the signal comes from the stop itself, at the step the run had reached.
    config = tiny_config(tmp_path, steps=100_000, val_every=100_000, log_every=1)
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    out = tmp_path / 'run'
    cmd = [sys.executable, '-m', 'vla_fusion_ros.train.train', '--config', config,
           '--out', str(out), '--no-progress', '--set', 'eval.episodes=0',
           'eval.val_episodes=0']
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    log, deadline = out / 'log.jsonl', time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not (
            log.exists() and log.read_text().count('"loss"') >= 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, output[-2000:]
    step = json.loads((out / 'state' / 'state.json').read_text())['state']['step']
    assert 3 <= step < 100_000 and f'stopped by SIGTERM at step {step} of 100000' in output
    assert not (out / 'summary.json').exists()
    # Resumed, it goes on from that step (here for two more, then pauses again).
    done = subprocess.run(cmd + ['--resume', '--stop-after', str(step + 2)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f'resumed at step {step} of 100000' in done.stdout + done.stderr
    assert json.loads((out / 'state' / 'state.json').read_text())['state']['step'] == step + 2


def test_stop_request_turns_the_first_sigterm_into_a_flag_and_restores_the_handler():
    before = signal.getsignal(signal.SIGTERM)
    stop = StopRequest()
    assert not stop.requested
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested  # this process is still here: the loop decides when to stop
    stop.close()
    assert signal.getsignal(signal.SIGTERM) is before
    assert not StopRequest(enabled=False).requested
    assert signal.getsignal(signal.SIGTERM) is before  # disabled: nothing installed


def test_minilm_with_varied_language_trains_and_refuses_the_other_kind(tmp_path):
    config = tiny_config(tmp_path, steps=4, val_every=4)
    with edited_config(config) as data:
        data['model'] = tiny_model(language={'kind': 'minilm', 'color_lexicon': True},
                                   fusion={'operator': 'cross_attention'})
        data['data']['language'] = 'varied'
        data['eval'] = {'val_episodes': 0, 'episodes': 2}
    out = tmp_path / 'minilm'
    assert train.main(['--config', config, '--out', str(out), '--no-progress']) == 0
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['training']['language_kind'] == 'minilm'
    assert summary['training']['data']['language'] == 'varied'
    # 12 episodes: (almost) one phrasing each, encoded once before training.
    assert summary['training']['data']['instructions'] >= 8
    stored = weights(str(out / 'model.safetensors'))
    assert not any(k.startswith('text.') for k in stored)  # the frozen encoder stays out
    policy = VLAPolicy.from_checkpoint(str(out / 'model.safetensors'), language_kind='minilm')
    assert policy.config.language.kind == 'minilm'
    with pytest.raises(Exception, match='trained with language.kind=minilm, not words'):
        VLAPolicy.from_checkpoint(str(out / 'model.safetensors'), language_kind='words')
    # Resuming the run as the other kind is refused by name.
    with pytest.raises(train_config.TrainConfigError, match='language.kind'):
        train.Trainer(train_config.load_config(
            config, ['model.language.kind=words']), str(out), progress=False).run(resume=True)


def test_minilm_with_memory_trains_on_whole_episodes(tmp_path):
    config = tiny_config(tmp_path, steps=3, val_every=3)
    with edited_config(config) as data:
        data['model'] = tiny_model(language={'kind': 'minilm', 'color_lexicon': True},
                                   head={'memory': 8})
        data['data']['language'] = 'varied'
        data['eval'] = {'val_episodes': 1, 'episodes': 2}
    out = tmp_path / 'memory'
    assert train.main(['--config', config, '--out', str(out), '--no-progress']) == 0
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['step'] for e in log if 'val_loss' in e] == [3]
    policy = VLAPolicy.from_checkpoint(str(out / 'model.safetensors'))
    assert policy.memory_size == 8 and policy.config.language.kind == 'minilm'


def test_language_probe_trains_and_stays_out_of_the_checkpoint(tmp_path):
    config = tiny_config(tmp_path, steps=3, val_every=3)
    with edited_config(config) as data:
        data['model'] = tiny_model(language={'kind': 'minilm', 'color_lexicon': True,
                                             'mask_colors': True},
                                   fusion={'operator': 'film'}, head={'memory': 8})
        data['data']['language'] = 'varied'
        data['loss'] = {'language_weight': 0.5}
        data['eval'] = {'val_episodes': 0, 'episodes': 1}
    out = tmp_path / 'probe'
    assert train.main(['--config', config, '--out', str(out), '--no-progress']) == 0
    stored = weights(str(out / 'model.safetensors'))
    assert not any(k.startswith(('names.', 'probe.')) for k in stored)
    assert 'model.names.weight' in weights(str(out / 'state' / 'tensors.safetensors'))


@pytest.mark.parametrize('operator', ['film', 'cross_attention'])
def test_language_probe_reads_the_adapters_and_trains_them(operator):
    from vla_fusion_ros.model.language import create_tokenizer, text_inputs
    from vla_fusion_ros.model.network import FusionModel
    from vla_fusion_ros.train.aux import AUX_DIM, language_loss, PolicyWithProbe
    config = train_config.model_config({'seed': 0, 'model': tiny_model(
        language={'color_lexicon': True}, fusion={'operator': operator, 'layers': [0, 1]})})
    model = FusionModel(config)
    net = PolicyWithProbe(model, seed=0, language=True)
    texts = ['go to the red circle', 'please find the blue box now']
    inputs = text_inputs(create_tokenizer(config.language), texts, config.language)
    actions, state, named = net(torch.zeros(2, 3, 32, 32), **inputs)
    assert named.shape == (2, 7) and state.shape == (2, AUX_DIM)
    target = torch.zeros(2, AUX_DIM + 2)
    target[:, AUX_DIM:] = torch.tensor([[0.0, 0.0], [2.0, 1.0]])
    language_loss(named, target).backward()
    assert model.adapters[0].net.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='language_weight'):
        PolicyWithProbe(FusionModel(train_config.model_config({'seed': 0, 'model': tiny_model(
            fusion={'mode': 'vision_only'})})), seed=0, language=True)


@pytest.mark.parametrize('share', [0.0, 0.25])
def test_language_action_grad_scales_only_the_action_gradient_into_the_adapters(share):
    from vla_fusion_ros.model.language import create_tokenizer, text_inputs
    from vla_fusion_ros.model.network import FusionModel
    from vla_fusion_ros.train.aux import AUX_DIM, language_loss, PolicyWithProbe
    config = train_config.model_config({'seed': 0, 'model': tiny_model(
        language={'color_lexicon': True}, fusion={'operator': 'film'})})
    inputs = text_inputs(create_tokenizer(config.language), ['go to the red circle'] * 2,
                         config.language)
    images = torch.rand(2, 3, 32, 32)
    target = torch.zeros(2, AUX_DIM + 2)

    def gradients(action_grad):
        model = FusionModel(config)
        with torch.no_grad():  # a trained model: fusion starts as the identity (no gradient)
            generator = torch.Generator().manual_seed(0)
            for parameter in model.parameters():
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
        net = PolicyWithProbe(model, seed=0, language=True, action_grad=action_grad)
        actions, _, named = net(images, **inputs)
        actions.square().sum().backward(retain_graph=True)
        from_actions = model.adapters[0].net.weight.grad.clone()
        model.zero_grad()
        language_loss(named, target).backward()
        return actions.detach(), from_actions, model.adapters[0].net.weight.grad.clone()

    actions, from_actions, from_probe = gradients(1.0)
    scaled_actions, scaled_from_actions, scaled_from_probe = gradients(share)
    assert torch.equal(actions, scaled_actions)  # the forward pass is unchanged
    assert from_actions.abs().sum() > 0
    assert torch.allclose(scaled_from_actions, share * from_actions, atol=1e-7)
    assert torch.allclose(scaled_from_probe, from_probe)  # the probe's gradient stays whole


def test_language_action_grad_below_one_needs_the_probe(tmp_path):
    config = tiny_config(tmp_path, steps=1, val_every=1)
    code = train.main(['--config', config, '--out', str(tmp_path / 'x'), '--no-progress',
                       '--set', 'loss.language_action_grad=0.0'])
    assert code == 2


def test_words_with_the_colour_lexicon_trains(tmp_path):
    config = tiny_config(tmp_path, steps=2, val_every=2)
    with edited_config(config) as data:
        data['model'] = tiny_model(language={'color_lexicon': True})
        data['data']['language'] = 'varied'
        data['eval'] = {'val_episodes': 0, 'episodes': 1}
    out = tmp_path / 'words'
    assert train.main(['--config', config, '--out', str(out), '--no-progress']) == 0
    stored = weights(str(out / 'model.safetensors'))
    assert any(k.startswith('adapters.') and '.color.' in k for k in stored)
    policy = VLAPolicy.from_checkpoint(str(out / 'model.safetensors'))
    assert policy.config.language.color_lexicon
    width, height = policy.image_size
    image = np.zeros((height, width, 3), np.uint8)
    assert policy.predict(image, 'go to the jade circle').shape == (1, 2)


def test_kept_steps_and_channels_last(tmp_path):
    """A run keeps its weights at schedule.keep_steps; channels-last order trains the same."""
    config = tiny_config(tmp_path, steps=6, keep_steps=[2, 5])
    overrides = ['eval.val_episodes=0', 'eval.episodes=0']
    for name, order in (('plain', 'false'), ('last', 'true')):
        assert train.main(['--config', config, '--out', str(tmp_path / name), '--no-progress',
                           '--set', *overrides, f'channels_last={order}']) == 0
    for name in ('plain', 'last'):
        assert {p.name for p in (tmp_path / name).glob('step_*')} == {
            'step_2.safetensors', 'step_5.safetensors'}
    # The same losses up to float order (weights with no gradient drift under Adam's noise).
    logs = {name: (tmp_path / name / 'log.jsonl').read_text().splitlines()
            for name in ('plain', 'last')}
    losses = {name: [e['loss'] for e in map(json.loads, lines) if 'loss' in e]
              for name, lines in logs.items()}
    assert losses['plain'] == pytest.approx(losses['last'], rel=1e-3)
    plain = VLAPolicy.from_checkpoint(str(tmp_path / 'plain' / 'step_5.safetensors'))
    last = VLAPolicy.from_checkpoint(str(tmp_path / 'last' / 'step_5.safetensors'))
    image = torch.randint(0, 255, (64, 64, 3), dtype=torch.uint8).numpy()
    assert last.predict(image, 'go to the red circle') == pytest.approx(
        plain.predict(image, 'go to the red circle'), abs=1e-3)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize('memory', [0, 8])
def test_ddp_with_two_cpu_processes_matches_one_process(tmp_path, memory):
    # With memory, each process takes one of the batch's two whole episodes and weighs its
    # loss by its share of the frames (vla_fusion_ros.train.batches).
    config = tiny_config(tmp_path, steps=4, val_every=4, batch_size=32 if memory else 16)
    with edited_config(config) as data:
        data['model'] = tiny_model(head={'memory': memory})
    single = tmp_path / 'single'
    assert train.main(['--config', config, '--out', str(single), '--no-progress',
                       '--set', 'eval.episodes=0', 'eval.val_episodes=0']) == 0
    ddp = tmp_path / 'ddp'
    env = dict(os.environ, OMP_NUM_THREADS='1', GLOO_SOCKET_IFNAME='lo',
               PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
           '-m', 'vla_fusion_ros.train.train', '--config', config, '--out', str(ddp),
           '--no-progress', '--set', 'eval.episodes=0', 'eval.val_episodes=0']
    done = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((ddp / 'summary.json').read_text())
    assert summary['training']['processes'] == 2 and summary['training']['steps'] == 4
    # Each process takes half of every global batch; DDP averages the gradients, so the two
    # processes follow the single-process trajectory up to float summation order. Key biases
    # of attention are the exception: softmax ignores them, their gradient is rounding noise,
    # and Adam turns noise into steps of size lr. They cannot change an output.
    one, two = weights(str(single / 'last.safetensors')), weights(str(ddp / 'last.safetensors'))
    kept = [k for k in one if not k.endswith(('key.bias', 'kv.bias'))]
    assert_same({k: one[k] for k in kept}, {k: two[k] for k in kept}, atol=1e-5)
    images = torch.randint(0, 255, (4, 64, 64, 3), dtype=torch.uint8).numpy()
    texts = ['go to the red circle', 'drive to the blue square', 'find the green one', 'x']
    actions = [VLAPolicy.from_checkpoint(str(run / 'last.safetensors')).predict_batch(
        images, texts) for run in (single, ddp)]
    assert abs(actions[0] - actions[1]).max() < 1e-4


def test_config_overrides_and_errors(tmp_path):
    config = train_config.load_config(
        tiny_config(tmp_path), ['model.fusion.operator=cross_attention', 'optim.lr=1e-3',
                                'model.fusion.layers=[0, 1]', 'seed=7'])
    model = train_config.model_config(config)
    assert model.fusion.operator == 'cross_attention' and model.fusion.layers == [0, 1]
    assert model.seed == 7 and config['optim']['lr'] == 1e-3
    default = train_config.load_config(os.path.join(REPO, 'config', 'train_overhead.yaml'),
                                       ['model.fusion.mode=late'])
    assert train_config.model_config(default).fusion.mode == 'late'
    with pytest.raises(train_config.TrainConfigError, match='optim.lrr'):
        train_config.load_config(None, ['optim.lrr=1'])
    with pytest.raises(train_config.TrainConfigError, match='fusion.operator'):
        train_config.load_config(None, ['model.fusion.operator=sum'])
    with pytest.raises(train_config.TrainConfigError, match='schedule.batch_size'):
        train_config.load_config(None, ['schedule.batch_size=0'])
    assert train.main(['--config', str(tmp_path / 'missing.yaml')]) == 2


def test_learning_rate_schedule_and_batches():
    sched = {'warmup_steps': 10, 'min_lr_ratio': 0.1}
    lrs = [train.learning_rate(s, 100, sched, 1.0) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:])) and lrs[-1] >= 0.1
    first = train.batch_indices(0, 4, 10, seed=1)
    second = train.batch_indices(1, 4, 10, seed=1)
    assert len(set(first.tolist()) | set(second.tolist())) == 8  # no repeats in an epoch
    assert torch.equal(first, train.batch_indices(0, 4, 10, seed=1))


def test_mirrored_state_targets_match_the_mirrored_world():
    # Mirror a pose, a target and an obstacle: x -> -x, theta -> pi - theta; recompute.
    x, y, theta, gx, gy, ox, oy = 0.3, -0.2, 0.7, -0.5, 0.4, 0.1, 0.6

    def targets(x, y, theta, gx, gy, ox, oy):
        c, s = torch.cos(torch.tensor(theta)), torch.sin(torch.tensor(theta))
        dx, dy, ex, ey = gx - x, gy - y, ox - x, oy - y
        return torch.stack([torch.tensor(x), torch.tensor(y), c, s, torch.tensor(gx),
                            torch.tensor(gy), c * dx + s * dy, -s * dx + c * dy,
                            torch.tensor(1.0), c * ex + s * ey, -s * ex + c * ey])

    mirrored = targets(-x, y, torch.pi - theta, -gx, gy, -ox, oy)
    assert torch.allclose(mirror(targets(x, y, theta, gx, gy, ox, oy)), mirrored, atol=1e-6)


def test_state_targets_name_the_target_in_view_and_the_nearest_obstacle():
    from vla_fusion_ros.train.aux import AUX_NAMES, aux_targets
    from vla_fusion_ros.train.dataset import generate
    data = generate(3, seed=40, world='first_person', noise_prob=0.0)
    aux = aux_targets(data)
    world = make_world('first_person')
    for frame in (0, len(aux) - 1):
        world.reset(int(data['episode_seed'][data['episode'][frame]]))
        pose = data['poses'][frame]
        named = dict(zip(AUX_NAMES, aux[frame].tolist()))
        assert named['target_in_view'] == float(world.target_visible(pose))
        others = [o for o in world.objects if o is not world.target]
        near = min(others, key=lambda o: np.hypot(o.x - pose[0], o.y - pose[1]) - o.radius)
        ahead = (np.cos(pose[2]) * (near.x - pose[0]) + np.sin(pose[2]) * (near.y - pose[1]))
        assert named['obstacle_forward'] == pytest.approx(ahead, abs=1e-5)  # half-side is 1 m
        # The language probe's classes: the pair the scene's instruction names.
        color, shape = aux[frame, len(AUX_NAMES):].long().tolist()
        assert (list(COLORS)[color], SHAPES[shape]) == tuple(world.named)
