# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The model can learn a language-conditioned task, not just run.

The task: a 32x32 image holds two blobs of different colours (of four); the instruction names
one colour; the target is that blob's (x, y) in [-1, 1]. Predicting the mean scores the variance
of the targets (chance). A model that ignores language can at best answer the midpoint of the
two blobs (the vision-only floor, about half of chance). Passing needs the loss far below both,
so the model must read the instruction and find the named blob. Every step draws fresh samples,
so the loss measures learning, not memorising.
"""

import time

import numpy as np
import pytest
import torch

from vla_fusion_ros.model import FusionModel, ModelConfig, Tokenizer
from vla_fusion_ros.train.train_state import parameter_groups

torch.set_num_threads(1)

COLOURS = {'red': (1.0, 0.1, 0.1), 'green': (0.1, 0.9, 0.1), 'blue': (0.1, 0.2, 1.0),
           'yellow': (1.0, 0.9, 0.1)}
TEMPLATES = ('go to the {} one', 'drive toward the {} blob', 'please head for {}',
             'the {} one', 'navigate to the {} square')
SIZE, BLOB = 32, 4
TOKENIZER = Tokenizer(max_length=8)


def make_task(n, seed):
    """Return images [n, 3, 32, 32], (ids, mask), targets [n, 1, 2] and the vision-only floor."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 3, SIZE, SIZE), dtype=np.float32)
    names = list(COLOURS)
    texts, targets, floor = [], [], []
    for i in range(n):
        pair = rng.choice(len(names), size=2, replace=False)
        xs = rng.integers(0, SIZE - BLOB, size=2)
        while abs(int(xs[0]) - int(xs[1])) < BLOB + 2:  # never overlapping
            xs = rng.integers(0, SIZE - BLOB, size=2)
        ys = rng.integers(0, SIZE - BLOB, size=2)
        for c, x, y in zip(pair, xs, ys):
            images[i, :, y:y + BLOB, x:x + BLOB] = np.array(COLOURS[names[c]])[:, None, None]
        centres = (np.stack([xs, ys], axis=1) + BLOB / 2) / SIZE * 2 - 1  # [2 blobs, (x, y)]
        pick = int(rng.integers(2))
        texts.append(TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(names[pair[pick]]))
        targets.append(centres[pick])
        floor.append(np.mean(((centres[0] - centres[1]) / 2) ** 2))
    return (torch.from_numpy(images), TOKENIZER.encode(texts),
            torch.tensor(np.array(targets), dtype=torch.float32).view(n, 1, 2),
            float(np.mean(floor)))


def task_config(operator):
    return ModelConfig.from_dict({
        'vision': {'image_size': SIZE, 'width': 16, 'depth': 4, 'norm_groups': 4,
                   'downsample': [0, 1]},
        'language': {'width': 16, 'depth': 1, 'heads': 2, 'max_length': 8},
        'fusion': {'operator': operator, 'layers': [1, 2], 'dim': 16, 'heads': 2},
        'head': {'action_names': ['x', 'y'], 'action_scale': [1.0, 1.0], 'hidden': 64},
    })


@pytest.mark.slow
@pytest.mark.parametrize('operator', ['film', 'cross_attention'])
def test_loss_falls_well_below_chance(operator):
    eval_x, (eval_ids, eval_mask), eval_y, floor = make_task(512, seed=12345)
    chance = float(eval_y.var(dim=0, unbiased=False).mean())
    model = FusionModel(task_config(operator))
    optimizer = torch.optim.AdamW(parameter_groups(model, 1e-4), lr=3e-3)
    start = time.perf_counter()
    for step in range(200):  # seconds on one thread
        x, (ids, mask), y, _ = make_task(128, seed=step)
        loss = torch.nn.functional.mse_loss(model(x, ids, mask), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()  # no wall-clock cut: a loaded machine is slower, not wrong
    model.eval()
    with torch.no_grad():
        eval_loss = float(torch.nn.functional.mse_loss(model(eval_x, eval_ids, eval_mask),
                                                       eval_y))
    summary = (f'{operator}: eval mse {eval_loss:.4f} after {step + 1} steps, chance '
               f'{chance:.4f}, vision-only floor {floor:.4f}, '
               f'{time.perf_counter() - start:.1f} s')
    print(summary)
    # The summary above prints the figures; the bounds leave room for other model seeds.
    assert eval_loss < 0.5 * floor and eval_loss < 0.3 * chance, summary
