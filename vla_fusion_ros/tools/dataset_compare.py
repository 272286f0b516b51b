# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Two datasets of the same episodes, compared frame by frame: a recorded one against its twin.

The robot-data proof (:mod:`vla_fusion_ros.tools.robot_data_proof`) records episodes over DDS
and converts them to LeRobot v3, and generates the same episodes in-process; this says how far
apart the two are as the model sees them: frames lost on the way, actions, grey levels.
"""

from typing import Any, Dict


def compare_datasets(dataset: str, npz: str) -> Dict[str, Any]:
    """
    Compare a LeRobot dataset with an in-process one (``.npz``), episode by episode.

    Both are read as the model sees them (64x64 images, actions).

    Episodes of equal length are compared frame by frame; an episode that lost frames on the
    way (a best-effort camera under load) is counted, not compared.
    """
    import numpy as np
    from vla_fusion_ros.data.lerobot_dataset import load as load_lerobot
    from vla_fusion_ros.train.dataset import load as load_npz
    recorded = load_lerobot(dataset, 64)
    generated = load_npz(npz)
    rec_eps, gen_eps = np.asarray(recorded.episode_index), np.asarray(generated['episode'])
    same, shorter, frames_short = [], 0, 0
    for episode in np.intersect1d(np.unique(rec_eps), np.unique(gen_eps)):
        rows_rec, rows_gen = np.flatnonzero(rec_eps == episode), np.flatnonzero(gen_eps == episode)
        if len(rows_rec) == len(rows_gen):
            same.append((rows_rec, rows_gen))
        else:
            shorter += 1
            frames_short += abs(len(rows_gen) - len(rows_rec))
    out = {'frames_recorded': int(len(recorded.actions)),
           'frames_in_process': int(len(generated['actions'])),
           'episodes_compared': len(same), 'episodes_other_length': shorter,
           'frames_missing_in_those': frames_short, 'compared': 0}
    if same:
        rec_rows = np.concatenate([r for r, _ in same])
        gen_rows = np.concatenate([g for _, g in same])
        diff = np.abs(recorded.actions[rec_rows].astype(np.float64)
                      - generated['actions'][gen_rows])
        out.update(compared=int(len(rec_rows)),
                   actions_equal=int((diff.max(axis=1) == 0).sum()),
                   action_max_abs_diff=float(diff.max()),
                   image_mean_abs_diff=float(np.mean(np.abs(
                       recorded.images[rec_rows].astype(np.int16)
                       - generated['images'][gen_rows]))))
    return out
