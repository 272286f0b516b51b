# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The shipped models against the comparison's recommendation, one world at a time.

The comparison recommends, per world, the variant and language encoder with the highest
success at the largest budget ("compute to spare"); a world's recommendation stands only when
the verdict of every encoder's group there is complete. :func:`shipped_against_recommended`
reads each shipped checkpoint's model config (fusion mode, operator, layers, encoder), names it
the way the comparison names its variants, and says whether the two agree. Where they do not,
the reason is a note written by hand from measured runs, ``<notes>/shipped_<world>.md``,
copied into the report; where that note is missing the report says so in bold, so a mismatch
never passes unexplained.
"""

import os
from typing import Any, Dict, List, Optional

from vla_fusion_ros.train import compare_plan as cp

#: The models the package ships, by world (paths relative to the repository root).
SHIPPED = {'overhead': os.path.join('models', 'overhead.safetensors'),
           'first_person': os.path.join('models', 'first_person.safetensors')}
#: Hand-written reasons why a shipped model differs from the recommendation.
NOTES = os.path.join('results', 'comparison', 'notes')

__all__ = ['NOTES', 'SHIPPED', 'shipped_against_recommended', 'variant_name']


def variant_name(config) -> str:
    """Name a model config's fusion the way the comparison does (``film@multi``, ``late``)."""
    fusion = config.fusion
    if fusion.mode != 'intermediate':
        return fusion.mode
    layers = list(fusion.layers)
    placement = next((p for p, ls in cp.PLACEMENTS.items() if ls == layers), None)
    return f'{fusion.operator}@{placement or layers}'


def _recommended(groups: List[Dict[str, Any]], world: str) -> Optional[Dict[str, Any]]:
    mine = [g for g in groups if g['world'] == world]
    if not mine or not all(g['variants'] and g['verdict'].get('complete') for g in mine):
        return None
    best = max(mine, key=lambda g: g['recommendations'][0]['success_rate'])
    top = best['recommendations'][0]
    return {'variant': top['use'], 'language': best['language'],
            'success_rate': top['success_rate']}


def _shipped(path: str) -> Dict[str, Any]:
    from vla_fusion_ros.model import CheckpointError, read_checkpoint_info
    try:
        config = read_checkpoint_info(path)[0]
    except (CheckpointError, OSError) as error:
        return {'path': path, 'error': str(error)}
    return {'path': path, 'variant': variant_name(config), 'language': config.language.kind}


def shipped_against_recommended(groups: List[Dict[str, Any]],
                                shipped: Optional[Dict[str, str]] = None,
                                notes: str = NOTES) -> List[Dict[str, Any]]:
    """
    Return, per world of ``groups``, the shipped model, the recommendation and their match.

    ``match`` is ``None`` while the world's recommendation is not final; ``note`` is the text of
    ``<notes>/shipped_<world>.md`` (empty when there is none).
    """
    shipped = SHIPPED if shipped is None else shipped
    rows = []
    for world in dict.fromkeys(g['world'] for g in groups):
        if world not in shipped:
            continue
        have = _shipped(shipped[world])
        want = _recommended(groups, world)
        match = None if want is None or 'error' in have else (
            (have['variant'], have['language']) == (want['variant'], want['language']))
        path = os.path.join(notes, f'shipped_{world}.md')
        note = ''
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as handle:
                note = handle.read().strip()
        rows.append({'world': world, 'shipped': have, 'recommended': want, 'match': match,
                     'note': note, 'note_path': path})
    return rows
