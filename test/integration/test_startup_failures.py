# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start-up failures of ``fusion_node``: each exits non-zero with one clear line, no traceback.

Cases (beyond test_fusion_node.py's unknown device, missing checkpoint, bad output_type and
negative watchdog): corrupt checkpoints (random bytes, truncated, empty, a flipped bit, a
safetensors file that is not ours), invalid parameters (out of range, wrong type, bad choice,
limits that exclude zero, limits that do not fit the model), malformed ``--ros-args`` and params
files, CUDA requested on a machine without it, invalid model_config YAML, and fusion overrides
on a checkpoint trained with another operator or other layers.

Each case must exit with status 2 and print exactly one ``[FusionNode] cannot start: ...`` line
that names the file or the parameter. Importing torch costs seconds, so most cases run in
children forked from one process that imported the node once (each child runs the same
``main()`` as the installed executable, with its own ``sys.argv``, DDS participant and exit
status); one runs the installed executable itself.
"""

import json
import os
import random
import signal
import subprocess
import sys

import pytest
import torch

from conftest import REPO  # noqa: I100 (the tests' own)
from vla_fusion_ros.harness.executables import find_executable
from vla_fusion_ros.harness.process import NodeProcess

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

CANNOT_START = '[FusionNode] cannot start:'
#: The model_config cases run with policy_loader.default_checkpoint patched to find nothing:
#: with models/overhead.safetensors shipped, the node never reads model_config.
NO_SHIPPED_MODEL = 'model_config'

#: Runs in a child process: import the node once, then fork one child per case.
FORK_SERVER = r"""
import json, os, signal, sys, time
from vla_fusion_ros.ros import fusion_node
results = []
for case in json.loads(sys.stdin.read()):
    out = case['log']
    pid = os.fork()
    if pid == 0:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.argv = ['fusion_node', '--ros-args'] + case['args']
        if case['no_shipped_model']:   # as in a build without models/overhead.safetensors
            from vla_fusion_ros.ros import policy_loader
            policy_loader.default_checkpoint = lambda: None
        try:
            code = fusion_node.main()
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)
    deadline = time.monotonic() + 60.0   # a case that starts after all must not hang us
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            results.append(os.waitstatus_to_exitcode(status))
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            results.append('still running after 60 s')
            break
        time.sleep(0.02)
print(json.dumps(results))
"""


def _checkpoints(folder):
    """Write a good checkpoint (the default config) and broken variants of it; return the paths."""
    from vla_fusion_ros.model import ModelConfig, save_checkpoint, VLAPolicy
    config = ModelConfig.from_yaml(os.path.join(REPO, 'config', 'model_default.yaml'))
    policy = VLAPolicy.from_config(config)
    good = os.path.join(folder, 'default.safetensors')
    save_checkpoint(good, policy.model, policy.tokenizer, config)
    with open(good, 'rb') as handle:
        blob = handle.read()
    rng = random.Random(7)
    paths = {'good': good}

    def write(name, data):
        paths[name] = os.path.join(folder, name + '.safetensors')
        with open(paths[name], 'wb') as handle:
            handle.write(data)
    write('random', rng.randbytes(4096))
    write('truncated', blob[:len(blob) // 2])
    write('empty', b'')
    flipped = bytearray(blob)
    flipped[-100] ^= 0x10           # inside the tensor data: only the checksum can tell
    write('flipped', bytes(flipped))
    from safetensors.torch import save as save_tensors
    write('foreign', save_tensors({'weight': torch.zeros(3)}))
    return paths


def _model_configs(folder):
    """Write invalid model_config YAML files; return their paths."""
    texts = {
        'syntax': 'vision:\n  kind: cnn\n  depth: [4\n',
        'unknown_key': 'vision:\n  colour: red\n',
        'bad_value': 'vision:\n  depth: -1\n',
        'bad_layers': 'fusion:\n  layers: [7]\n',
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = os.path.join(folder, f'model_{name}.yaml')
        with open(paths[name], 'w', encoding='utf-8') as handle:
            handle.write(text)
    paths['bad_params'] = os.path.join(folder, 'bad_params.yaml')
    with open(paths['bad_params'], 'w', encoding='utf-8') as handle:
        handle.write('fusion_node:\n  ros__parameters:\n    watchdog_timeout: [1, 2\n')
    # Misspelled keys in the node's own section; a wildcard section's keys are not its own.
    paths['misspelled'] = os.path.join(folder, 'misspelled.yaml')
    with open(paths['misspelled'], 'w', encoding='utf-8') as handle:
        handle.write('/**:\n  ros__parameters:\n    camera_gain: 2.0\n'
                     'fusion_node:\n  ros__parameters:\n    max_linaer: 0.1\n'
                     '    watchdog_timeout: 0.4\n    watchdog_timout: 0.2\n')
    return paths


def _cases(tmp):
    ckpt = _checkpoints(tmp)
    yaml = _model_configs(tmp)
    p = (lambda name, value: ['-p', f'{name}:={value}'])
    cases = [
        # Corrupt checkpoints: the line names the file.
        ('checkpoint random bytes', p('checkpoint', ckpt['random']), ckpt['random']),
        ('checkpoint truncated', p('checkpoint', ckpt['truncated']), ckpt['truncated']),
        ('checkpoint empty', p('checkpoint', ckpt['empty']), ckpt['empty']),
        ('checkpoint bit flip', p('checkpoint', ckpt['flipped']), 'checksum'),
        ('checkpoint not ours', p('checkpoint', ckpt['foreign']), ckpt['foreign']),
        ('checkpoint is a folder', p('checkpoint', tmp), "parameter 'checkpoint'"),
        # Invalid parameters: the line names the parameter.
        ('control_rate out of range', p('control_rate', '0.0'), 'control_rate'),
        ('threads of the wrong type', p('threads', 'many'), "parameter 'threads'"),
        ('image_transport choice', p('image_transport', 'h264'),
         "parameter 'image_transport'"),
        ('image QoS reliability', p('image_qos_reliability', 'sometimes'),
         "parameter 'image_qos_reliability'"),
        ('image QoS depth', p('image_qos_depth', '0'), 'image_qos_depth'),
        ('limits of unequal length', p('action_min', '[-1.0]') + p('action_max', '[1.0,1.0]'),
         "parameter 'action_min'"),
        ('limits that exclude zero', p('output_type', 'float32_multi_array')
         + p('action_min', '[0.1,0.1]') + p('action_max', '[1.0,1.0]'), 'action_min'),
        ('limits that do not fit the model', p('output_type', 'float32_multi_array')
         + p('action_min', '[-1.0,-1.0,-1.0]') + p('action_max', '[1.0,1.0,1.0]'),
         "parameter 'action_min'"),
        ('fusion_operator choice', p('fusion_operator', 'sum'), "parameter 'fusion_operator'"),
        ('malformed -p', ['-p', 'watchdog_timeout'], "'-p watchdog_timeout'"),
        ('missing params file', ['--params-file', os.path.join(tmp, 'none.yaml')], 'none.yaml'),
        ('unparsable params file', ['--params-file', yaml['bad_params']], 'bad_params.yaml'),
        ('misspelled keys in the params file', ['--params-file', yaml['misspelled']],
         'max_linaer, watchdog_timout'),
        # The model: config files and overrides on a trained checkpoint.
        # (model_config is read only when no checkpoint is loaded: these four run as if the
        # package shipped no model; see NO_SHIPPED_MODEL.)
        ('model_config syntax', p('model_config', yaml['syntax']), yaml['syntax']),
        ('model_config unknown key', p('model_config', yaml['unknown_key']), 'colour'),
        ('model_config bad value', p('model_config', yaml['bad_value']), 'vision.depth'),
        ('model_config bad layers', p('model_config', yaml['bad_layers']), 'layers'),
        ('operator override on a checkpoint', p('checkpoint', ckpt['good'])
         + p('fusion_operator', 'cross_attention'), "parameter 'fusion_operator'"),
        ('layers override on a checkpoint', p('checkpoint', ckpt['good'])
         + p('fusion_layers', '[0,3]'), "parameter 'fusion_layers'"),
        ('duplicate fusion layers', p('checkpoint', ckpt['good'])
         + p('fusion_layers', '[1,2,1]'), 'duplicate'),
        # Overrides without a checkpoint or model_config never swap the shipped trained model
        # for an untrained one.
        ('layers override on the shipped model', p('fusion_layers', '[0,3]'), 'model_config'),
        ('operator override on the shipped model', p('fusion_operator', 'cross_attention'),
         'model_config'),
    ]
    if not torch.cuda.is_available():
        cases.append(('CUDA without CUDA', p('device', 'cuda'), "'cuda'"))
    return cases


def _check(name, code, output, expected):
    """Return ``(line, problem)``: the "cannot start" line and what is wrong ('' if nothing)."""
    lines = [line for line in output.splitlines() if line.startswith(CANNOT_START)]
    line = lines[0] if lines else ''
    if code != 2:
        return line, f'{name}: exit status {code}\n{output[-2000:]}'
    if 'Traceback' in output:
        return line, f'{name}: traceback\n{output[-2000:]}'
    if len(lines) != 1:
        return line, f'{name}: {len(lines)} "cannot start" lines\n{output[-2000:]}'
    if expected not in line:
        return line, f'{name}: the line does not name {expected!r}: {line}'
    return line, ''


def test_startup_failures_exit_2_with_one_line(tmp_path):
    cases = _cases(str(tmp_path))
    # One case through the installed executable itself, concurrently with the rest.
    direct = [case for case in cases if case[0] == 'malformed -p']
    procs = [NodeProcess([find_executable('fusion_node'), '--ros-args'] + args,
                         log_dir=str(tmp_path)) for _, args, _ in direct]
    specs = [{'args': args, 'log': str(tmp_path / f'case{i}.log'),
              'no_shipped_model': name.startswith(NO_SHIPPED_MODEL)}
             for i, (name, args, _) in enumerate(cases)]
    # Its own session: on a timeout the server and every forked child are killed together.
    server = subprocess.Popen([sys.executable, '-c', FORK_SERVER],
                              env=dict(os.environ, PYTHONUNBUFFERED='1'),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = server.communicate(json.dumps(specs), timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.communicate()
        for proc in procs:
            proc.kill()
        pytest.fail('the start-up cases did not finish within 240 s')
    assert server.returncode == 0, stderr[-3000:]
    codes = json.loads(stdout.strip().splitlines()[-1])
    report, problems = [], []
    for (name, _, expected), spec, code in zip(cases, specs, codes):
        with open(spec['log'], encoding='utf-8', errors='replace') as handle:
            line, problem = _check(name, code, handle.read(), expected)
        report.append(f'{name}: {line}')
        problems += [problem] if problem else []
    for (name, _, expected), proc in zip(direct, procs):
        code = proc.finish(timeout=120)
        line, problem = _check(name + ' (installed executable)', code, proc.output, expected)
        report.append(f'{name} (installed executable): {line}')
        problems += [problem] if problem else []
    print('\n' + '\n'.join(report))
    assert not problems, '\n\n'.join(problems)
