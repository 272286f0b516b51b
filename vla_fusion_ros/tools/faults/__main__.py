# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m vla_fusion_ros.tools.faults``: run the faults, write faults.md and faults.json."""

import argparse
import json
import os
import sys

from vla_fusion_ros.harness import environment
from vla_fusion_ros.harness.executables import REPO
from vla_fusion_ros.tools.faults.report import write_markdown
from vla_fusion_ros.tools.faults.run import run_faults
from vla_fusion_ros.tools.run_info import load_samples


def main(argv=None) -> int:
    """Run the fault scenarios and write faults.md and faults.json."""
    parser = argparse.ArgumentParser(
        prog='python -m vla_fusion_ros.tools.faults',
        description='Fault injection in the fusion graph, as processes over DDS.')
    parser.add_argument('--repeats', type=int, default=3, help='repetitions of each fault')
    parser.add_argument('--burst', type=int, default=500, help='malformed images per burst')
    parser.add_argument('--toggles', type=int, default=200, help='e-stop toggles per run')
    parser.add_argument('--no-default-lease', action='store_true',
                        help='skip the 20-s crashed-publisher case with the default lease')
    parser.add_argument('--out', default=os.path.join(REPO, 'results', 'reliability'))
    parser.add_argument('--report', metavar='FAULTS_JSON',
                        help='run nothing: re-render faults.md from an earlier faults.json')
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report, encoding='utf-8') as handle:
            results = json.load(handle)
        os.makedirs(args.out, exist_ok=True)
        write_markdown(results, os.path.join(args.out, 'faults.md'))
        return 0
    domain = environment.isolate()['ROS_DOMAIN_ID']
    print(f'faults: ROS_DOMAIN_ID={domain}, load {load_samples()}', flush=True)
    results = run_faults(args.repeats, args.burst, args.toggles, not args.no_default_lease,
                         progress=lambda line: print(line, flush=True))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'faults.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    write_markdown(results, os.path.join(args.out, 'faults.md'))
    ok = (results['crashes'] == 0 and results['unsafe_commands'] == 0
          and results['faults_survived'] == results['faults_injected'])
    print(f'faults: {results["faults_survived"]}/{results["faults_injected"]} survived, '
          f'crashes {results["crashes"]}, unsafe commands {results["unsafe_commands"]}, worst '
          f'stop {results["worst_stop_s"]}; written to {args.out}', flush=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
