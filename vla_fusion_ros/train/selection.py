# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The final choice between a run's best and last checkpoints, on more validation scenes.

During training, ``best.safetensors`` is the step with the highest closed-loop success on
``eval.val_episodes`` validation scenes (50 by default). Fifty episodes tell 96% from 92% by
two episodes, less than their noise: the shipped overhead model's run picked step 6,000 (96%)
over its last step, 10,000 (92%, and a lower validation loss), and on 400 fresh validation
scenes the last step scored 97.2% against 94.0% (``results/training/overhead.md``). With
``eval.select_episodes: N`` the trainer evaluates both checkpoints on N validation scenes
that neither training nor the per-step validation saw (seeds from :data:`SELECT_SEED_START`)
and keeps the one with more successes; a tie keeps the lower validation loss. The test scenes
are never used to choose. A run without closed-loop validation (``eval.val_episodes: 0``)
skips the choice.
"""

import os
from typing import Any, Dict, Optional, Tuple

from vla_fusion_ros.model import VLAPolicy
from vla_fusion_ros.sim.base import VAL_SELECT_SEED_START
from vla_fusion_ros.train.evaluate import evaluate_in_process

#: Validation scenes of the final choice (the split of the range: sim/base.py).
SELECT_SEED_START = VAL_SELECT_SEED_START


def episodes(section: Dict[str, Any]) -> int:
    """
    Return the selection's episode count from the config's ``eval`` section.

    Zero without closed-loop validation (``val_episodes: 0``): the runs of the fusion
    comparison, and training on robot data, which has no simulated world to validate in.
    """
    return int(section['select_episodes']) if int(section['val_episodes']) > 0 else 0


def _val_loss(history, step: int) -> float:
    """Return the validation loss recorded at ``step`` (infinity when none was)."""
    losses = [h['val_loss'] for h in history if h.get('step') == step and 'val_loss' in h]
    return losses[-1] if losses else float('inf')


def choose(out: str, state: Dict[str, Any], episodes: int, world: str,
           log=print) -> Tuple[str, Optional[Dict[str, Any]]]:
    """
    Return the path of the checkpoint to ship from ``out`` and the record of the choice.

    The record is ``None`` when there was nothing to choose: no selection episodes, no best
    step, or the best step is the last one.
    """
    paths = {name: os.path.join(out, f'{name}.safetensors') for name in ('best', 'last')}
    best = state.get('best')
    if (episodes <= 0 or best is None or best.get('step') == state['step']
            or not os.path.exists(paths['last'])):
        return paths['best'], None
    record: Dict[str, Any] = {'episodes': episodes, 'seed_start': SELECT_SEED_START}
    keys = {}
    for name, step in (('best', best['step']), ('last', state['step'])):
        summary = evaluate_in_process(VLAPolicy.from_checkpoint(paths[name]), episodes,
                                      SELECT_SEED_START, world=world)
        loss = _val_loss(state['history'], step)
        record[name] = {'step': step, 'successes': summary['successes'],
                        'success_rate': summary['success_rate'], 'val_loss': loss}
        keys[name] = (summary['successes'], -loss)
        log(f'selection: {name} checkpoint (step {step}): strict success '
            f'{summary["successes"]}/{episodes} on validation scenes from {SELECT_SEED_START}, '
            f'validation loss {loss:.4f}')
    record['chosen'] = 'last' if keys['last'] > keys['best'] else 'best'
    log(f'selection: shipping the {record["chosen"]} checkpoint '
        f'(step {record[record["chosen"]]["step"]})')
    return paths[record['chosen']], record
