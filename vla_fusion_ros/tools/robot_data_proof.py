# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
The robot-data path, proven closed-loop with one command: record, convert, train, evaluate.

::

    flock /work/cpu.lock nice -n 5 python -m vla_fusion_ros.tools.robot_data_proof \\
        --out runs/robot_data --results results/robot_data          # ~2 h on 2 cores

Stages (each keeps its output in ``--out`` and is skipped when that output exists, so an
interrupted run continues where it stopped; ``--fresh`` starts over):

1. **cost**: the recorder's own cost. ``sim_camera`` publishes 640x480 rgb8 at 30 Hz for
   ``--cost-seconds`` into a ``recorder`` (one bag) while this process plays the teleoperator
   (Twist at 30 Hz, one instruction). Frames published while subscribed against frames in the
   bag, the recorder's CPU share and the bag's MB/s; then the converter's frames/s on that bag.
2. **record**: ``sim_world`` (overhead world, ``teleop:=expert``, realtime at ``--rate`` Hz,
   camera ``--camera``) and the recorder over DDS, started by the recording graph
   (:func:`vla_fusion_ros.ros.record_graph.record_nodes`, as ``record.launch.py`` does):
   ``--episodes`` scenes from seed 0, one bag each.
3. **convert**: ``bag_to_lerobot`` with ``--clock header`` (the teleop stamps each command
   with its frame's stamp), the world's episode events, failed episodes kept (the in-process
   dataset keeps them too).
4. **train** (after generating the in-process dataset; side by side, one torch thread each;
   ``--seeds`` training seeds of ``recorded`` and ``in_process``), with the recipe of
   ``config/train_overhead.yaml`` (model, optimiser, steps, augmentation) and the same model
   selection for every model (lowest validation loss on the same held-out 5% of the episodes;
   no closed-loop selection, no final evaluation):
   ``recorded`` from the dataset alone; ``in_process`` on the same scenes generated in-process
   (same seeds, same camera size, same actuation noise: the same episodes); both without the
   auxiliary probe, which needs the simulated world's poses that a robot does not record;
   ``in_process_probe``: as ``in_process`` with the recipe's probe, to measure what it adds.
5. **evaluate** each model, and the shipped ``models/overhead.safetensors`` for reference,
   through ROS (``sim_world`` lockstep + ``fusion_node`` over DDS) on ``--eval-episodes``
   held-out scenes at the camera size; beside each, the same model told "go to the object"
   (in-process, the no-information floor).
6. **report**: ``proof.json`` and ``proof.md`` in ``--results``
   (:mod:`vla_fusion_ros.tools.robot_data_report`).
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import Any, Dict, List, Tuple

from vla_fusion_ros.data import lerobot_v3_schema as v3
from vla_fusion_ros.harness import environment
from vla_fusion_ros.harness.environment import isolated_env
from vla_fusion_ros.harness.executables import REPO, share_file
from vla_fusion_ros.harness.graph import Graph, NodeSpec
from vla_fusion_ros.harness.process import NodeProcess
from vla_fusion_ros.model import VLAPolicy
from vla_fusion_ros.ros.record_graph import record_nodes, SIM_EPISODE_TOPIC
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.tools import robot_data_report
from vla_fusion_ros.tools.dataset_compare import compare_datasets
from vla_fusion_ros.train.evaluate import evaluate_in_process, UNINFORMATIVE_INSTRUCTION
from vla_fusion_ros.train.ros_eval import evaluate_ros
import yaml

MODELS = tuple(m for m in robot_data_report.ALL_MODELS if m != 'shipped')  # those it trains


def _run(command: List[str], log: str) -> float:
    """Run ``command`` to ``log``; raise with the log's tail on failure; return the seconds."""
    started = time.monotonic()
    with open(log, 'w', encoding='utf-8') as handle:
        code = subprocess.call(command, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO)
    if code != 0:
        with open(log, encoding='utf-8') as handle:
            tail = ''.join(handle.readlines()[-20:])
        raise RuntimeError(f'{" ".join(command)} failed ({code}); {log}:\n{tail}')
    return time.monotonic() - started


def _bag_counts(pattern: str, topic: str) -> Dict[str, float]:
    """Return ``{bags, messages, bytes, seconds}`` of the closed bags matching ``pattern``."""
    from rosbags.rosbag2 import Reader
    bags = sorted(p for p in glob.glob(pattern) if os.path.isfile(
        os.path.join(p, 'metadata.yaml')))
    messages, seconds = 0, 0.0
    for bag in bags:
        with Reader(bag) as reader:
            messages += sum(c.msgcount for c in reader.connections if c.topic == topic)
            seconds += reader.duration / 1e9
    size = sum(os.path.getsize(f) for b in bags for f in glob.glob(os.path.join(b, '*')))
    return {'bags': len(bags), 'messages': messages, 'bytes': size, 'seconds': seconds}


def _dropped(output: str) -> int:
    """Return the recorder's own count of queue drops, from its closing line."""
    found = re.findall(r'closed: .*?; dropped (\d+)', output)
    if not found:
        raise RuntimeError('the recorder did not report its closing line')
    return int(found[-1])


def _convert(bags: List[str], out: str, fps: int, log: str, extra: List[str]) -> Dict:
    _run([sys.executable, '-m', 'vla_fusion_ros.data.bag_to_lerobot', *bags, '--out', out,
          '--fps', str(fps), *extra], log)
    with open(os.path.join(out, v3.CONVERSION_PATH), encoding='utf-8') as handle:
        report = json.load(handle)
    return {'frames': report['totals']['frames'], 'episodes': report['totals']['episodes'],
            'seconds': report['seconds'], 'frames_per_second': report['frames_per_second'],
            'totals': report['totals']}


def stage_cost(work: str, seconds: float, domain: int) -> Dict[str, Any]:
    """Measure the recorder at 640x480 rgb8, 30 Hz (losses, CPU, MB/s) and the converter."""
    folder = os.path.join(work, 'cost')
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    env = isolated_env(domain)
    from vla_fusion_ros.harness.probe import Probe
    recorder = NodeProcess('recorder', params={
        'output_dir': os.path.join(folder, 'bags'), 'bag_prefix': 'cost',
        'progress_period': 10.0}, env=env, log_dir=folder, label='recorder')
    time.sleep(3.0)
    camera = NodeProcess('sim_camera', params={'width': 640, 'height': 480, 'encoding': 'rgb8',
                                               'frequency': 30.0},
                         remaps={'~/image_raw': '/camera/image_raw'}, env=env,
                         log_dir=folder, label='sim_camera')
    probe = Probe('cost_teleop', domain_id=domain)
    from geometry_msgs.msg import Twist
    cmd = probe.create_publisher(Twist, '/cmd_vel', 10)
    probe.publish_instruction(probe.instruction_publisher('/instruction'), 'go to the red cube')
    probe.create_timer(1.0 / 30.0, lambda: cmd.publish(Twist()))
    time.sleep(5.0)                 # both started, matched, frames flowing
    cpu0, wall0 = recorder.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu1, wall1 = recorder.cpu_seconds(), time.monotonic()
    camera.stop(signal.SIGINT)
    time.sleep(1.0)
    probe.close()
    code = recorder.stop(signal.SIGINT, timeout=120.0)
    published = re.findall(r'published (\d+) frames \((\d+) while subscribed\)', camera.output)
    if code != 0 or not published:
        raise RuntimeError(f'cost: recorder status {code}; camera: {camera.log_tail()}')
    counts = _bag_counts(os.path.join(folder, 'bags', 'cost_*'), '/camera/image_raw')
    matched = int(published[-1][1])
    bag = glob.glob(os.path.join(folder, 'bags', 'cost_*'))[0]
    convert = _convert([bag], os.path.join(folder, 'dataset'), 30,
                       os.path.join(folder, 'convert.log'), [])
    return {'seconds_measured': round(wall1 - wall0, 1), 'camera': '640x480 rgb8 at 30 Hz',
            'published': int(published[-1][0]), 'published_while_subscribed': matched,
            'recorded': counts['messages'], 'lost': matched - counts['messages'],
            'queue_drops': _dropped(recorder.output),
            'recorder_cpu_percent': round(100.0 * (cpu1 - cpu0) / (wall1 - wall0), 1),
            'bag_bytes': counts['bytes'], 'bag_seconds': round(counts['seconds'], 1),
            'frame_rate_hz': round(counts['messages'] / counts['seconds'], 1),
            'bag_mb_per_s': round(counts['bytes'] / 1e6 / counts['seconds'], 2),
            'convert': convert}


def stage_record(work: str, args, domain: int) -> Dict[str, Any]:
    """Record ``args.episodes`` teleoperated episodes through the recording graph."""
    folder = os.path.join(work, 'record')
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(share_file('config', 'record.yaml'), encoding='utf-8') as handle:
        params = yaml.safe_load(handle)
    width, height = args.camera
    params['sim_world']['ros__parameters'].update(
        rate=float(args.rate), image_width=width, image_height=height, on_finish='exit',
        instruction_lead=float(args.instruction_lead))
    params['recorder']['ros__parameters'].update(progress_period=60.0)
    params_file = os.path.join(folder, 'record.yaml')
    with open(params_file, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(params, handle)
    nodes = [NodeSpec(n.executable, n.name, n.params_file, n.overrides, n.remaps)
             for n in record_nodes({'use_sim': 'true', 'episodes': str(args.episodes),
                                    'seed': '0', 'output_dir': os.path.join(folder, 'bags'),
                                    'params_file': params_file}, params_file)]
    graph = Graph(nodes, env=isolated_env(domain), log_dir=folder)
    started = time.monotonic()
    graph.start()
    try:
        deadline = started + 60.0 + args.episodes * 5.0
        while graph.poll()['sim_world'] is None and time.monotonic() < deadline:
            time.sleep(1.0)
        world_code = graph.poll()['sim_world']
        cpu = graph.processes['recorder'].cpu_seconds()
    finally:
        codes = graph.stop(timeout=300.0)
    wall = time.monotonic() - started
    if world_code != 0 or codes['recorder'] != 0:
        raise RuntimeError(f'record: sim_world {world_code}, recorder {codes["recorder"]}\n'
                           + graph.tails())
    world_log = graph.processes['sim_world'].output
    reports = [json.loads(m) for m in re.findall(r'episode: (\{.*\})', world_log)]
    counts = _bag_counts(os.path.join(folder, 'bags', 'episode_*'), '/camera/image_raw')
    return {'episodes': len(reports), 'frames_published': sum(r['steps'] for r in reports),
            'expert_successes': sum(bool(r['success']) for r in reports),
            'bags': counts['bags'], 'frames_recorded': counts['messages'],
            'bag_bytes': counts['bytes'], 'queue_drops': _dropped(
                graph.processes['recorder'].output),
            'wall_time_s': round(wall, 1), 'recorder_cpu_s': round(cpu, 1),
            'rate_hz': args.rate, 'camera': f'{width}x{height}'}


def stage_generate(work: str, args) -> Dict[str, Any]:
    """Generate the in-process dataset of the same scenes (the training data of two models)."""
    width, height = args.camera
    path = os.path.join(work, 'in_process.npz')
    seconds = _run([sys.executable, '-m', 'vla_fusion_ros.train.dataset', '--episodes',
                    str(args.episodes), '--seed', '0', '--render-sizes', f'{width}x{height}',
                    '--out', path, '--no-progress'], os.path.join(work, 'generate.log'))
    return {'path': path, 'seconds': round(seconds, 1)}


def train_command(work: str, name: str, args, dataset: str) -> Tuple[List[str], List[str]]:
    """Return the training command of model ``name`` and its config overrides."""
    out = os.path.join(work, 'train', name)
    base, seed = robot_data_report.arm(name), robot_data_report.seed_of(name)
    width, height = args.camera
    # No DAgger (a robot's data has no expert to label the policy's own states) and the
    # templates (the recorded tasks are the world's own instructions): the same for all three.
    sets = ['data.val_path=', 'eval.val_episodes=0', 'eval.episodes=0', 'threads=1',
            'dagger.rounds=0', 'data.language=templates']
    if args.steps:
        sets.append(f'schedule.steps={args.steps}')
    if seed:  # seed 0 is the config's own: its runs stay the ones an earlier proof cached
        sets.append(f'seed={seed}')
    command = [sys.executable, '-m', 'vla_fusion_ros.train.train', '--config',
               share_file('config', 'train_overhead.yaml'), '--out', out, '--no-progress']
    if base == 'recorded':
        command += ['--dataset', dataset]
    else:
        sets += [f'data.path={os.path.join(work, "in_process.npz")}',
                 f'data.render_sizes=[{width}x{height}]',
                 f'data.generate.episodes={args.episodes}', 'data.generate.seed=0',
                 f'loss.aux_weight={1.0 if base == "in_process_probe" else 0.0}']
    return command + ['--set', *sets], sets


def stage_train(work: str, args, dataset: str, names: List[str]) -> Dict[str, Dict]:
    """Train the models ``names`` side by side (one torch thread each); return summaries."""
    running = {}
    for name in names:
        command, sets = train_command(work, name, args, dataset)
        log = open(os.path.join(work, f'train_{name}.log'), 'w', encoding='utf-8')
        running[name] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                          cwd=REPO), log, sets, time.monotonic())
    results = {}
    for name, (proc, log, sets, started) in running.items():
        code = proc.wait()
        seconds = time.monotonic() - started
        log.close()
        if code != 0:
            raise RuntimeError(f'training {name} failed ({code}): see {log.name}')
        out = os.path.join(work, 'train', name)
        with open(os.path.join(out, 'summary.json'), encoding='utf-8') as handle:
            training = json.load(handle)['training']
        results[name] = {
            'checkpoint': os.path.join(out, 'model.safetensors'),
            'wall_time_s': round(seconds), 'loop_time_s': training['wall_time_s'],
            'parallel': len(names), 'steps': training['steps'], 'best': training['best'],
            'train_frames': training['data'].get('train_frames'),
            'frames': training['data'].get('frames'),
            'aux_weight': training['config']['loss']['aux_weight'], 'sets': sets}
    return results


def stage_data_check(work: str, dataset: str) -> Dict[str, Any]:
    """Compare the recorded dataset with the in-process one, frame by frame (model input)."""
    return compare_datasets(dataset, os.path.join(work, 'in_process.npz'))


def stage_evaluate(checkpoint: str, args, domain: int) -> Dict[str, Any]:
    """Strict success through ROS at the camera size, and the in-process floor."""
    size = tuple(args.camera)
    ros = evaluate_ros(checkpoint, args.eval_episodes, EVAL_SEED_START,
                       timeout=120.0 + 5.0 * args.eval_episodes, domain_id=domain,
                       render_size=size)
    floor = evaluate_in_process(VLAPolicy.from_checkpoint(checkpoint), args.eval_episodes,
                                EVAL_SEED_START, render_size=size,
                                instruction=UNINFORMATIVE_INSTRUCTION)
    return {'ros': ros, 'floor': floor}


def _cached(path: str, make, fresh: bool):
    if not fresh and os.path.isfile(path):
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    value = make()
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(value, handle, indent=1)
    return value


def main(argv=None) -> int:
    """Run every stage (or continue an interrupted run) and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--out', default='runs/robot_data', help='work folder')
    parser.add_argument('--results', default='results/robot_data')
    parser.add_argument('--episodes', type=int, default=4000)
    parser.add_argument('--rate', type=float, default=60.0, help='teleop steps per second')
    parser.add_argument('--instruction-lead', type=float, default=0.1,
                        help="s between an episode's instruction and its first frame")
    parser.add_argument('--camera', default='160x120', help='WIDTHxHEIGHT of the camera')
    parser.add_argument('--steps', type=int, default=0, help='training steps (0: recipe)')
    parser.add_argument('--eval-episodes', type=int, default=300)
    parser.add_argument('--cost-seconds', type=float, default=60.0)
    parser.add_argument('--models', default=','.join(robot_data_report.ALL_MODELS),
                        help='recorded,in_process and any of in_process_probe,shipped')
    parser.add_argument('--seeds', type=int, default=robot_data_report.DEFAULT_SEEDS,
                        help='training seeds of the recorded and in-process models: their '
                        'spread is the run-to-run noise the gap between them is read against')
    parser.add_argument('--fresh', action='store_true', help='redo every stage')
    args = parser.parse_args(argv)
    chosen = [m.strip() for m in args.models.split(',') if m.strip()]
    if set(chosen) - {*MODELS, 'shipped'} or not {'recorded', 'in_process'} <= set(chosen):
        parser.error(f'--models {args.models!r}: give recorded, in_process and any of '
                     'in_process_probe, shipped')
    if args.seeds < 1:
        parser.error(f'--seeds {args.seeds}: give 1 or more')
    trained = [m for m in MODELS if m in chosen] + [
        f'{m}_seed{k}' for k in range(1, args.seeds) for m in ('recorded', 'in_process')]
    args.camera = [int(v) for v in args.camera.lower().split('x')]
    work = os.path.abspath(args.out)
    os.makedirs(work, exist_ok=True)
    domain = 150 + os.getpid() % 50
    environment.isolate(os.environ, domain)     # this process's probes, and every child
    started = time.monotonic()
    cost = _cached(os.path.join(work, 'cost.json'),
                   lambda: stage_cost(work, args.cost_seconds, domain), args.fresh)
    record = _cached(os.path.join(work, 'record.json'),
                     lambda: stage_record(work, args, domain), args.fresh)
    dataset = os.path.join(work, 'dataset')
    bags = sorted(glob.glob(os.path.join(work, 'record', 'bags', 'episode_*')))
    convert = _cached(os.path.join(work, 'convert.json'), lambda: (
        shutil.rmtree(dataset, ignore_errors=True),
        _convert(bags, dataset, int(args.rate), os.path.join(work, 'convert.log'),
                 ['--clock', 'header', '--episode-topic', SIM_EPISODE_TOPIC,
                  '--keep-failed']))[1], args.fresh)
    generated = _cached(os.path.join(work, 'generate.json'),
                        lambda: stage_generate(work, args), args.fresh)
    os.makedirs(os.path.join(work, 'train'), exist_ok=True)
    paths = {name: os.path.join(work, f'train_{name}.json') for name in trained}
    missing = [n for n in trained if args.fresh or not os.path.isfile(paths[n])]
    for name, summary in stage_train(work, args, dataset, missing).items():
        with open(paths[name], 'w', encoding='utf-8') as handle:
            json.dump(summary, handle, indent=1)
    models = {}
    for name in trained:
        with open(paths[name], encoding='utf-8') as handle:
            models[name] = json.load(handle)
        # The design, from the run's own config (cached summaries predate this field).
        models[name]['model'] = robot_data_report.model_design(
            os.path.dirname(models[name]['checkpoint']))
    data_check = _cached(os.path.join(work, 'data_check.json'),
                         lambda: stage_data_check(work, dataset), args.fresh)
    shipped = os.path.join(REPO, 'models', 'overhead.safetensors')
    checkpoints = {n: m['checkpoint'] for n, m in models.items()}
    if 'shipped' in chosen:
        checkpoints['shipped'] = shipped
    evaluations = {name: _cached(os.path.join(work, f'eval_{name}.json'),
                                 lambda path=path: stage_evaluate(path, args, domain),
                                 args.fresh) for name, path in checkpoints.items()}
    result = {'settings': {k: v for k, v in vars(args).items() if k not in ('out', 'results')},
              'cost': cost, 'record': record, 'convert': convert, 'generate': generated,
              'models': models,
              'data_check': data_check,
              'evaluations': evaluations,
              'wall_time_s': round(time.monotonic() - started, 1)}
    for path in robot_data_report.write(result, args.results):
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
