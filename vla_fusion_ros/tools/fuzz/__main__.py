# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m vla_fusion_ros.tools.fuzz``: run the fuzzer, write fuzz.md and fuzz.json."""

import argparse
import json
import os
import sys

from vla_fusion_ros.harness import environment
from vla_fusion_ros.harness.executables import REPO
from vla_fusion_ros.tools.fuzz.report import write_markdown
from vla_fusion_ros.tools.fuzz.run import passed, run_fuzz
from vla_fusion_ros.tools.run_info import load_samples


def main(argv=None) -> int:
    """Run the fuzzer and write fuzz.md and fuzz.json."""
    parser = argparse.ArgumentParser(prog='python -m vla_fusion_ros.tools.fuzz',
                                     description='Fuzz the fusion node over DDS.')
    parser.add_argument('--cases', type=int, default=10000, help='cases in all (>= 1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--compressed-share', type=float, default=0.2,
                        help='share of the cases sent to the compressed-image node')
    parser.add_argument('--out', default=os.path.join(REPO, 'results', 'reliability'))
    parser.add_argument('--report', metavar='FUZZ_JSON',
                        help='run nothing: re-render fuzz.md from an earlier fuzz.json')
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report, encoding='utf-8') as handle:
            result = json.load(handle)
        os.makedirs(args.out, exist_ok=True)
        write_markdown(result, os.path.join(args.out, 'fuzz.md'))
        return 0 if passed(result) else 1
    domain = environment.isolate()['ROS_DOMAIN_ID']
    print(f'fuzz: ROS_DOMAIN_ID={domain}, load {load_samples()}', flush=True)
    result = run_fuzz(args.cases, args.seed, args.compressed_share,
                      progress=lambda line: print(line, flush=True))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'fuzz.json'), 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=2)
    write_markdown(result, os.path.join(args.out, 'fuzz.md'))
    print(f'fuzz: {result["cases_tried"]} cases, crashes {result["crashes"]}, unsafe commands '
          f'{result["unsafe_commands"]}, counter mismatches '
          f'{len(result["counter_mismatches"])}; written to {args.out}', flush=True)
    return 0 if passed(result) else 1


if __name__ == '__main__':
    sys.exit(main())
