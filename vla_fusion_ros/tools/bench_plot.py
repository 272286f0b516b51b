# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""benchmark.png: latency CDFs, the flood, configuration costs, growth and optimisations."""

from typing import Dict


def write_plot(results: Dict, path: str) -> None:
    """Latency CDFs (floor vs node), the flood, configuration costs and the growth curves."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter
    import numpy as np

    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    ax = axes[0, 0]
    runs = [(f'floor ({k})', v) for k, v in results.get('floor', {}).items()]
    runs += [(f'node ({k})', v) for k, v in results.get('node', {}).items()]
    for label, phase in runs:
        values = np.sort(np.asarray(phase.get('latencies_ms', [])))
        if values.size:
            ax.plot(values, np.arange(1, values.size + 1) / values.size, label=label)
    tails = [np.percentile(p['latencies_ms'], 99) for _, p in runs if p.get('latencies_ms')]
    if tails:
        ax.set_xlim(0, 1.15 * max(tails))
    ax.set_xlabel('stamp -> command receipt (ms), cut at the largest p99')
    ax.set_ylabel('fraction of commands')
    floor = results.get('floor', {}).get('single') or {}
    frame = (results.get('conversion') or {}).get('frame', '').split(' ->')[0]
    ax.set_title(f'{floor.get("rate_hz", 0):g} Hz, {frame}: latency CDF')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    flood = results.get('flood')
    if flood and flood.get('latencies_ms'):
        values = np.asarray(flood['latencies_ms'])
        when = np.asarray(flood.get('stamps_ms') or np.arange(values.size) * 33.3) * 1e-3
        ax.plot(when, values, '.', ms=3)
        ax.set_xlabel('image stamp, s into the flood')
        ax.set_ylabel('stamp -> command receipt (ms)')
    ax.set_title(f"flood: {(flood or {}).get('rate_hz', 0):g} Hz input, processed frames' "
                 'latency')
    ax.grid(True, alpha=0.3)

    ax = axes[0, 2]
    configs = results.get('configurations', [])
    if configs:
        keys = list(configs[0]['cost'])
        x = np.arange(len(configs))
        width = 0.8 / len(keys)
        for i, key in enumerate(keys):
            ax.bar(x + i * width, [c['cost'][key]['total']['p50'] for c in configs], width,
                   label=key)
        ax.set_xticks(x + 0.4 - width / 2)
        ax.set_xticklabels([c['name'].replace(' (default)', '*') for c in configs],
                           rotation=40, ha='right', fontsize=8)
        ax.set_ylabel('preprocess + forward p50 (ms), log scale')
        ax.set_yscale('log')
        ax.legend(fontsize=8)
    ax.set_title('model cost per fusion configuration')
    ax.grid(True, axis='y', alpha=0.3)

    growth = results.get('growth') or {}
    for ax, kind, xlabel in ((axes[1, 0], 'layers', 'fusion layers'),
                             (axes[1, 1], 'resolution', 'input side (px)')):
        rows = growth.get(kind, [])
        if rows:
            ax2 = ax.twinx()
            for operator in dict.fromkeys(r['operator'] for r in rows):
                part = [r for r in rows if r['operator'] == operator]
                xs = [int(r['x']) for r in part]
                for key in part[0]['cost']:
                    ax.plot(xs, [r['cost'][key]['forward']['p50'] for r in part], 'o-',
                            label=f'{operator}, {key}: forward p50')
                ax2.plot(xs, [r['mflops'] for r in part], 's--', color='grey', alpha=0.6)
                ax.set_xticks(xs)
            ax2.set_ylabel('MFLOP a frame (grey, dashed)', color='grey')
            ax2.ticklabel_format(axis='y', useOffset=False)
            ax.legend(fontsize=7, loc='upper left')
        ax.set_xlabel(xlabel)
        ax.set_ylabel('ms')
        ax.set_title(f'cost growth: {xlabel}')
        ax.grid(True, alpha=0.3)

    ax = axes[1, 2]
    opts = [o for o in results.get('optimisations', []) if 'p50' in o]
    if opts:
        y = np.arange(len(opts))
        ax.barh(y, [o['p50'] for o in opts],
                color=['tab:green' if o['kept'] else 'tab:grey' for o in opts])
        ax.set_yticks(y)
        ax.set_yticklabels([o['variant'] for o in opts], fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale('log')
        ax.xaxis.set_minor_formatter(NullFormatter())  # the minor labels overlapped
        ax.set_xticks([0.2, 0.5, 1, 2, 5])
        ax.xaxis.set_major_formatter(FormatStrFormatter('%g'))
        ax.set_xlabel('p50 (ms, log scale), green = kept')
    ax.set_title('optimisations')
    ax.grid(True, axis='x', alpha=0.3)
    load = '/'.join(f'{v:.2f}' for v in results['load']['start'])
    fig.suptitle(f'vla_fusion_ros benchmark ({results["machine"]["cpu"]}, '
                 f'{results["machine"]["usable_cores"]} cores, load {load})')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
