# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""faults.md: the human-readable summary of a fault run, from its result alone."""

from typing import Dict


def write_markdown(results: Dict, path: str) -> None:
    """Write the human-readable summary of a fault run."""
    ms = (lambda v: f'{v * 1e3:.0f} ms' if v is not None else '-')
    bound = f'{ms(results["stop_bound_s"])}: the watchdog timeout + one camera period'
    if results.get('watchdog_timeout_s') and results.get('camera_rate_hz'):
        bound = (f'watchdog {ms(results["watchdog_timeout_s"])} + one camera period '
                 f'{ms(1.0 / results["camera_rate_hz"])} = {ms(results["stop_bound_s"])}')
    default_lease = [s.get('stop_from_signal_s') for s in results['scenarios']
                     if s['name'].endswith('default_lease')]
    short_lease = results.get('short_lease_s')
    lines = [
        '# Fault injection: fusion graph as processes over DDS',
        '',
        f'`python -m vla_fusion_ros.tools.faults` (commit {results["git_commit"]}, '
        f'ROS 2 {results["distro"]}, {results["rmw"]}, {results["cpu_count"]} CPUs, '
        f'{results["duration_s"]:.0f} s).',
        '',
        f'- faults injected: **{results["faults_injected"]}**, survived: '
        f'**{results["faults_survived"]}**',
        f'- node crashes: **{results["crashes"]}**; unsafe commands (non-finite or outside the '
        f'limits): **{results["unsafe_commands"]}** of {results["commands_checked"]} checked',
        f'- worst stop time (stall to explicit zero): **{ms(results["worst_stop_s"])}** '
        f'(bound: {bound})',
        f'- final exit codes after SIGINT: {results["final_exit_codes"]}; traceback in the '
        f'node output: {results["traceback_in_node_output"]}',
        '- load average (1/5/15 min) during the run: '
        + ', '.join('/'.join(f'{v:.1f}' for v in s) for s in results['load_average_samples'][::4]),
        '',
        '| fault | stop | bound | resume | notes |',
        '|---|---|---|---|---|',
    ]
    for s in results['scenarios']:
        stop = s.get('stop_from_last_frame_s', s.get('stop_from_signal_s'))
        notes = []
        if 'stop_from_last_frame_s' in s:
            notes.append(f'from signal {ms(s["stop_from_signal_s"])}')
        if s['name'] == 'malformed_burst':
            notes.append(f'{s["rejected"]}/{s["sent"]} rejected ({s["rate_per_s"]:.0f}/s), '
                         f'{s["commands_during"]} '
                         f'commands, {s["zeros_during"]} zeros during it, sign flips '
                         f'{s["sign_flips_during"]} ('
                         + (f'{s["baseline_s"]:g} s before' if 'baseline_s' in s else 'before')
                         + f': {s["sign_flips_before"]})')
        if s['name'] == 'estop_toggles':
            notes.append(f'{s["toggles"]} toggles every {s["interval_s"] * 1e3:.0f} ms, '
                         f'reaction {ms(s.get("estop_reaction_s"))}')
        if s.get('bounded') is False:
            notes.append('not bounded by the node: DDS lease')
        if 'instruction_after_restart' in s:
            notes.append(f'instruction after restart: "{s["instruction_after_restart"]}"')
        notes += [f'**{p}**' for p in s['problems']]
        bound = ms(s.get('bound_s')) if stop is not None and s.get('bounded', True) else '-'
        lines.append(f'| {s["name"]} | {ms(stop)} | {bound} | {ms(s.get("resume_s"))} | '
                     + '; '.join(notes) + ' |')
    lines += [
        '',
        "Stop times are measured at the probe: from the last camera frame's header stamp (or the",
        'signal, for the instruction publisher) to the reception of the explicit zero command.',
        'A crashed instruction publisher is noticed through DDS participant liveliness: with',
        "Fast DDS's default lease the node cannot stop sooner"
        + (f' (measured here: {ms(default_lease[0])})' if default_lease and default_lease[0]
           else '') + '; with the shipped profile',
        '[config/fastdds_short_lease.xml](../../config/fastdds_short_lease.xml) (`leaseDuration`'
        + (f' {short_lease:g} s' if short_lease else '') + '), loaded by the publisher process,',
        'it stops within the bound. Every process',
        'loads [config/fastdds.xml](../../config/fastdds.xml) otherwise (frames through shared',
        'memory).',
        "A crashed fusion node sends nothing (the downstream controller's own timeout applies);",
        'a cleanly stopped one sends a final zero.',
        '',
    ]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))
