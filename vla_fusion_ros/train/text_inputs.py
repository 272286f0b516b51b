# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The training instructions as model inputs: tokenized once, and encoded once when frozen.

A dataset holds few unique instructions (about one per episode) against tens of thousands of
frames, so the trainer tokenizes each unique instruction once (:func:`instruction_table`). With
a frozen pretrained encoder (``language.kind: minilm``, ``finetune: false``) it also runs the
encoder on each of them once, before the first step, and keeps only what the model reads
(token features or sentence vectors); a training step then gathers rows of that cache, and
costs about what a step with the small word encoder costs.
"""

import os
import time
from typing import Any, Callable, Dict, Sequence, Tuple

import torch

from vla_fusion_ros.model.config import ModelConfig
from vla_fusion_ros.model.language import text_inputs
from vla_fusion_ros.train import lerobot_source
from vla_fusion_ros.train import train_config as tc
import yaml


def is_frozen(config: ModelConfig) -> bool:
    """Return whether the model's text encoder is pretrained, frozen and read at all."""
    lang = config.language
    return lang.kind == 'minilm' and not lang.finetune and config.fusion.mode != 'vision_only'


def instruction_table(model, tokenizer, instructions: Sequence[str], frozen: bool,
                      log: Callable[[str], None] = print) -> Dict[str, Any]:
    """
    Return ``{'row', 'inputs', 'seconds'}`` (+ ``'cache'`` when frozen).

    ``inputs``: the text encoder's inputs of every instruction (:func:`text_inputs`).
    """
    inputs = text_inputs(tokenizer, list(instructions), model.config.language)  # [I, ...]
    table: Dict[str, Any] = {'row': {text: row for row, text in enumerate(instructions)},
                             'inputs': inputs, 'seconds': 0.0}
    if frozen:
        start = time.perf_counter()
        keep = model.cache_keys
        parts = []
        with torch.no_grad():
            for first in range(0, len(instructions), 256):
                cache = model.encode_text(**{k: v[first:first + 256]
                                             for k, v in inputs.items()})
                parts.append({k: cache[k] for k in keep})
        table['cache'] = {k: torch.cat([p[k] for p in parts]) for k in keep}
        table['seconds'] = time.perf_counter() - start
        log(f'encoded {len(instructions)} unique instructions with the frozen text encoder in '
            f'{table["seconds"]:.1f} s')
    return table


def training_tables(trainer, train, val) -> Tuple[Any, Dict[str, Any], Dict[str, Any]]:
    """Return a run's tokenizer and the tables of its training and validation instructions."""
    language, tokenizer = trainer.model_config.language, trainer.tokenizer
    if trainer.lerobot and language.kind == 'words':
        # The default words plus the dataset's own (WordPiece reads any task as it is).
        tokenizer = lerobot_source.tokenizer_for(
            train.instructions, language.max_length, language.vocab_size, trainer.log)
    tables = [instruction_table(trainer.model, tokenizer, d.instructions, trainer.frozen,
                                trainer.log) for d in (train, val)]
    return tokenizer, tables[0], tables[1]


def language_args(table: Dict[str, Any], texts: Sequence[str]) -> Dict[str, Any]:
    """Return the model's language arguments for ``texts``: its inputs, or cached rows."""
    rows = torch.tensor([table['row'][t] for t in texts])
    if 'cache' in table:
        return {'cache': {k: v[rows] for k, v in table['cache'].items()}}
    return {k: v[rows] for k, v in table['inputs'].items()}


def check_resume_kind(out: str, now: ModelConfig) -> None:
    """
    Refuse to resume a run in ``out`` with another model than the one it trained.

    Any difference in the model config refuses, before training starts: the saved weights
    belong to the saved config, and a difference that leaves the weights' shapes alone (FiLM
    settings in a vision-only run) used to train on and fail at the final save.
    """
    path = os.path.join(out, 'config.yaml')
    if not os.path.isfile(path):
        return
    with open(path, encoding='utf-8') as handle:
        saved_config = tc.model_config(yaml.safe_load(handle))
    saved, lang = saved_config.language, now.language
    if (saved.kind, saved.finetune) != (lang.kind, lang.finetune):
        raise tc.TrainConfigError(
            f'model.language.kind: {out} was trained with {saved.kind} (finetune '
            f'{saved.finetune}); cannot resume it with {lang.kind} (finetune '
            f'{lang.finetune}): start a new --out')
    was, wants = tc.flatten(saved_config.to_dict()), tc.flatten(now.to_dict())
    differ = sorted(k for k in set(was) | set(wants) if was.get(k) != wants.get(k))
    if differ:
        shown = '; '.join(f'model.{k} was {was.get(k)!r}, now {wants.get(k)!r}'
                          for k in differ[:3])
        more = f' (and {len(differ) - 3} more)' if len(differ) > 3 else ''
        raise tc.TrainConfigError(
            f'{shown}{more}: {out} was trained with another model; resume it with '
            f'--config {path}, or start a new --out')
