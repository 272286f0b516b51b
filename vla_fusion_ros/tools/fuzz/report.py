# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""fuzz.md: the human-readable summary of a fuzz run, from its result alone."""

from typing import Dict

from vla_fusion_ros.tools.fuzz.cases import MAX_FRAME_BYTES, MAX_INSTRUCTION


def write_markdown(result: Dict, path: str) -> None:
    """Write the human-readable summary of a fuzz run."""
    limits = result.get('limits')
    bounds = (f'|linear.x| <= {limits[0]:g}, |angular.z| <= {limits[1]:g}' if limits
              else 'the limits')
    mib = MAX_FRAME_BYTES / 2**20
    lines = [
        '# Fuzzing the fusion node over DDS',
        '',
        f'`python -m vla_fusion_ros.tools.fuzz --cases {result["cases_requested"]} --seed '
        f'{result["seed"]}` (commit {result["git_commit"]}, ROS 2 {result["distro"]}, '
        f'hypothesis, {result["cpu_count"]} CPUs, {result["duration_s"]:.0f} s).',
        '',
        f'- cases tried: **{result["cases_tried"]}**',
        f'- crashes: **{result["crashes"]}** (exit codes after SIGINT: {result["exit_codes"]}; '
        f'tracebacks: {result["tracebacks"]})',
        f'- unsafe commands (non-finite or outside {bounds}): '
        f'**{result["unsafe_commands"]}** of {result["commands_checked"]} '
        f'checked ({result["moving_commands"]} non-zero)',
        f'- counter mismatches (diagnostics vs what was sent): '
        f'**{len(result["counter_mismatches"])}**',
        f'- inference errors on accepted frames: **{result["inference_errors"]}**',
        '- load average (1/5/15 min) during the run: '
        + ', '.join('/'.join(f'{v:.1f}' for v in s) for s in result['load_average_samples']),
        '',
        '| input | category | sent | must be rejected |',
        '|---|---|---|---|',
    ]
    for kind, cats in result['categories'].items():
        for category, counts in sorted(cats.items()):
            lines.append(f'| {kind} | {category} | {counts["sent"]} | '
                         f'{counts["expected_rejected"]} |')
    lines += ['', '## Counters reported by the nodes at the end', '',
              '| counter | ' + ' | '.join(result['final_counters']) + ' |',
              '|---|' + '---|' * len(result['final_counters'])]
    keys = sorted({k for c in result['final_counters'].values() for k in c})
    for key in keys:
        values = ' | '.join(str(c.get(key, 0)) for c in result['final_counters'].values())
        lines.append(f'| {key} | {values} |')
    lines += [
        '',
        'Every case is checked against an independent oracle (vla_fusion_ros.tools.fuzz.cases):',
        'an Image must be rejected unless its encoding is supported, width and height are',
        'non-zero, step >= width * channels * bytes and a multiple of the pixel size, height *',
        f'step <= {mib:g} MiB and the data length equals height * step; an instruction unless',
        f'it has at most {MAX_INSTRUCTION} characters and a visible one (DDS ends strings at',
        'NUL); a compressed image unless it is a JPEG or PNG whose header declares at most '
        f'{mib:g} MiB',
        'of pixels and that OpenCV decodes.',
        '',
    ]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))
