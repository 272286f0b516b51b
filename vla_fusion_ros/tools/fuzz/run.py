# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The fuzz run: hypothesis drives the cases into a raw-image and a compressed-image node."""

import os
import signal
import time
from typing import Dict, Optional

from hypothesis import given, HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed

from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.harness.records import LIMITS
from vla_fusion_ros.tools.fuzz.cases import InstructionCase, SENTENCES
from vla_fusion_ros.tools.fuzz.strategies import compressed_cases, raw_stream
from vla_fusion_ros.tools.fuzz.target import FuzzTarget, NodeDied
from vla_fusion_ros.tools.run_info import git_commit, load_samples


def _drive(strategy, count: int, handle, seed: int) -> int:
    """Feed ``count`` hypothesis examples of ``strategy`` to ``handle``; return how many ran."""
    done = [0]

    def one(case):
        handle(case)
        done[0] += 1

    round_ = 0
    while done[0] < count:
        remaining = count - done[0]
        run = given(strategy)(one)
        run = hypothesis_seed(seed * 1000 + round_)(run)
        run = settings(max_examples=min(remaining, 2000), deadline=None, database=None,
                       phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                       derandomize=False)(run)
        before = done[0]
        run()
        if done[0] == before:
            break
        round_ += 1
    return done[0]


def run_fuzz(cases: int = 10000, seed: int = 0, compressed_share: float = 0.2,
             log_dir: Optional[str] = None, progress=print) -> Dict:
    """Fuzz a raw-image node and a compressed-image node with ``cases`` cases in all."""
    started = time.monotonic()
    probe = Probe()
    probe.watch_diagnostics()
    raw = FuzzTarget(probe, 'fuzz_raw', False, log_dir)
    comp = FuzzTarget(probe, 'fuzz_compressed', True, log_dir)
    compressed_cases_n = int(round(cases * compressed_share))
    raw_cases_n = cases - compressed_cases_n
    loads = [load_samples()]
    result: Dict = {'cases_requested': cases, 'seed': seed}
    died = ''
    try:
        for target in (raw, comp):
            if not target.ready():
                raise NodeDied(f'{target.name} did not start:\n'
                               + target.process.output[-3000:])
            target.baseline()
        comp.send_instruction(InstructionCase('valid', SENTENCES[0]))
        comp.categories = {}   # set-up, not a case
        progress(f'fuzz: nodes ready after {time.monotonic() - started:.0f} s; '
                 f'{raw_cases_n} image/instruction cases, {compressed_cases_n} compressed')

        def on_raw(case):
            (raw.send_instruction if isinstance(case, InstructionCase) else raw.send_image)(
                case)
            if sum(v['sent'] for d in raw.categories.values() for v in d.values()) % 1000 == 0:
                loads.append(load_samples())
                progress(f'fuzz: raw {sum_sent(raw)} cases, {len(raw.mismatches)} mismatches')
        try:
            result['raw_cases'] = _drive(raw_stream(), raw_cases_n, on_raw, seed)
            raw.flush()
            result['compressed_cases'] = _drive(compressed_cases(), compressed_cases_n,
                                                comp.send_compressed, seed + 1)
        except NodeDied as exc:
            died = str(exc)
        loads.append(load_samples())
        final = {t.name: probe.fresh_counters(t.name) for t in (raw, comp)}
        rss = {}
        for t in (raw, comp):
            try:
                rss[t.name] = t.process.rss()
            except Exception:  # noqa: BLE001 - psutil.Error: the process is gone
                rss[t.name] = None
    finally:
        codes = {t.name: t.process.stop(signal.SIGINT) for t in (raw, comp)}
        probe.close()
    outputs = {t.name: t.process.output for t in (raw, comp)}
    result.update({
        'cases_tried': sum_sent(raw) + sum_sent(comp),
        'cases_by_node': {raw.name: sum_sent(raw), comp.name: sum_sent(comp)},
        'categories': {**raw.categories, **comp.categories},  # disjoint kinds
        'crashes': sum(1 for t in (raw, comp) if codes[t.name] != 0) + bool(died),
        'died': died,
        'exit_codes': codes,
        'tracebacks': {name: 'Traceback' in out for name, out in outputs.items()},
        'unsafe_commands': len(raw.commands.violations) + len(comp.commands.violations),
        'unsafe_examples': (raw.commands.violations + comp.commands.violations)[:10],
        'commands_checked': len(raw.commands) + len(comp.commands),
        'moving_commands': sum(len([c for c in t.commands.records if not c.zero])
                               for t in (raw, comp)),
        'counter_mismatches': raw.mismatches + comp.mismatches,
        'final_counters': final,
        'expected_counters': {t.name: t.expected for t in (raw, comp)},
        'inference_errors': sum(final[t.name].get('inference_errors', 0) for t in (raw, comp)),
        'node_rss_bytes_at_end': rss,
        'load_average_samples': loads,
        'cpu_count': os.cpu_count(),
        'duration_s': time.monotonic() - started,
        'git_commit': git_commit(),
        'distro': os.environ.get('VFR_DISTRO', 'kilted'),
        'limits': list(LIMITS),
    })
    return result


def sum_sent(target: FuzzTarget) -> int:
    """Return how many cases were sent to ``target``."""
    return sum(v['sent'] for d in target.categories.values() for v in d.values())


def passed(result: Dict) -> bool:
    """Return whether a fuzz run met every criterion."""
    return (result['crashes'] == 0 and result['unsafe_commands'] == 0
            and not result['counter_mismatches'] and not any(result['tracebacks'].values())
            and result['inference_errors'] == 0)
