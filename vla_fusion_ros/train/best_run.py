# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pick, among training runs of one recipe, the one with the lowest validation loss.

::

    python -m vla_fusion_ros.train.best_run runs/mine_0 runs/mine_1 runs/mine_2

Prints each run's best validation loss (and validation success, where it was measured), then
the chosen run's ``model.safetensors`` on the last line, for ``checkpoint:=``. Behaviour cloning
from demonstrations alone is seed-sensitive: in the robot-data proof
(``results/robot_data/proof.md``) one recipe on one dataset scored 16-85% across training
seeds, and the lower a run's validation loss, the higher its closed-loop success. Validation
loss needs no simulator, so a robot user can choose this way.
"""

import argparse
import json
import os
import sys
from typing import Dict, List


def best_of(runs: List[str]) -> Dict[str, Dict]:
    """Return ``{run: best}`` (the summary's ``training.best``) for every run folder."""
    found = {}
    for run in runs:
        path = os.path.join(run, 'summary.json')
        try:
            with open(path, encoding='utf-8') as handle:
                best = json.load(handle)['training']['best']
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f'{path}: not a finished training run ({error})') from None
        if not isinstance(best, dict) or 'val_loss' not in best:
            raise ValueError(f'{path}: has no validation loss (trained without validation?)')
        found[run] = best
    return found


def main(argv=None) -> int:
    """Print the runs' validation losses and the chosen checkpoint; 2 on a bad run folder."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('runs', nargs='+', help='training run folders (train --out)')
    args = parser.parse_args(argv)
    try:
        found = best_of(args.runs)
    except ValueError as error:
        print(f'best_run: {error}', file=sys.stderr)
        return 2
    ranked = sorted(found, key=lambda run: found[run]['val_loss'])
    for run in ranked:
        best, success = found[run], found[run].get('val_success')
        print(f'{run}: validation loss {best["val_loss"]:.4f} at step {best.get("step")}'
              + ('' if success is None else f', validation success {success:.0%}'))
    print(os.path.join(ranked[0], 'model.safetensors'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
