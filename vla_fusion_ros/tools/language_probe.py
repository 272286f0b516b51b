# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the frozen MiniLM knows of the held-out synonyms, without any policy.

For every layer of all-MiniLM-L6-v2 (0: the word-piece embeddings, 6: the last, which the
policy reads), each synonym's features in ``'go to the <word> square'`` (the mean over its
pieces) are compared with the centroids of the training words of each colour (each shape):
the nearest centroid (cosine) is the probe's guess. Training words are the names and the
training synonyms of :mod:`vla_fusion_ros.sim.instructions`; the probe sees no held-out word
before it guesses it. A word the probe gets wrong at every layer is one whose meaning the
encoder does not hold, and no adapter trained on the training words can recover it. For the
shapes it also compares sentence vectors (:func:`sentence_probe`), what the operators that read
one vector see: there 'go to the red cone' is nearest 'go to the red circle'. Yet a linear
read-out of that same sentence vector (:func:`readout_probe`), trained on sentences of the
training language only, names the shape of held-out instructions: the encoder holds what
the policy needs, and what is lost is lost in training the policy.

::

    python -m vla_fusion_ros.tools.language_probe --out results/language/probe.md \
        --name shipped --checkpoint models/overhead.safetensors

With ``--checkpoint`` the same read-out is fitted to what each model's fusion reads (its
adapters' output, :func:`adapter_features`), word by word.
"""

import argparse
import os
import sys
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from vla_fusion_ros.sim.instructions import TRAINING_COLOR_SYNONYMS, TRAINING_SHAPE_SYNONYMS
from vla_fusion_ros.train.language_eval import load_suite

LAYERS = (0, 1, 2, 3, 4, 5, 6)


def word_features(module, tokenizer, words: Sequence[str], slot: str) -> np.ndarray:
    """Return [layers, words, 384]: each word's mean piece feature inside a template."""
    texts = [f'go to the {w} square' if slot == 'color' else f'go to the red {w}'
             for w in words]
    ids, mask = tokenizer.encode(texts)
    with torch.no_grad():
        states = module.bert(input_ids=ids, attention_mask=mask.long(),
                             output_hidden_states=True).hidden_states
    first = 4 if slot == 'color' else 5  # [CLS] go to the (red) <word>
    out = np.zeros((len(LAYERS), len(words), states[0].shape[-1]), dtype=np.float32)
    for i, word in enumerate(words):
        pieces = len(tokenizer.tokens(word)) - 2
        for k, layer in enumerate(LAYERS):
            out[k, i] = states[layer][i, first:first + pieces].mean(0).numpy()
    return out


def probe(module, tokenizer, train: Dict[str, Tuple[str, ...]], test: Dict[str, List[str]],
          slot: str) -> Dict[str, object]:
    """Nearest-centroid guesses of every held-out word, per layer."""
    names = list(train)
    train_words = [(n, w) for n in names for w in (n, *train[n])]
    test_words = [(n, w) for n in names for w in test[n]]
    tr = word_features(module, tokenizer, [w for _, w in train_words], slot)
    te = word_features(module, tokenizer, [w for _, w in test_words], slot)
    rows = {w: [] for _, w in test_words}
    accuracy = []
    for k in range(len(LAYERS)):
        cent = np.stack([tr[k][[i for i, (n, _) in enumerate(train_words) if n == name]]
                         .mean(0) for name in names])
        cent /= np.linalg.norm(cent, axis=1, keepdims=True)
        z = te[k] / np.linalg.norm(te[k], axis=1, keepdims=True)
        guesses = [names[j] for j in (z @ cent.T).argmax(1)]
        for (_, word), guess in zip(test_words, guesses):
            rows[word].append(guess)
        accuracy.append(float(np.mean([g == n for g, (n, _) in zip(guesses, test_words)])))
    return {'truth': {w: n for n, w in test_words}, 'guesses': rows, 'accuracy': accuracy}


def sentence_probe(module, tokenizer, test: Dict[str, List[str]]) -> List[str]:
    """
    Say which shape name's sentence each held-out shape word's sentence is nearest.

    The sentence vector (the normalised mean of the last layer) is what operators that read
    one vector (FiLM, Hadamard, concat-MLP) adapt: 'go to the red <word>' against 'go to the
    red <name>' for each shape name, cosine.
    """
    names = list(test)
    words = [(n, w) for n in names for w in test[n]]
    with torch.no_grad():
        ref = module(*tokenizer.encode([f'go to the red {n}' for n in names]))[1]
        got = module(*tokenizer.encode([f'go to the red {w}' for _, w in words]))[1]
    sims = (got @ ref.T).numpy()  # [words, names]
    lines = ['| sentence with (is) | ' + ' | '.join(f'cosine to "... {n}"' for n in names)
             + ' | nearest |', '|---|' + '---|' * (len(names) + 1)]
    right = 0
    for (truth, word), row in zip(words, sims):
        guess = names[int(row.argmax())]
        right += guess == truth
        lines.append(f'| {word} ({truth}) | ' + ' | '.join(f'{v:.2f}' for v in row) + ' | '
                     + (guess if guess == truth else f'~~{guess}~~') + ' |')
    lines.append('| **right** | ' + ' | ' * (len(names) - 1) + f' | {right / len(words):.0%} |')
    return lines


def readout_probe(module, tokenizer, suite, count: int = 4000, seed: int = 0
                  ) -> Dict[str, float]:
    """
    Return the shape accuracy of a linear read-out of the sentence vector, per suite group.

    ``count`` sentences of the training language (colour names masked, as the shipped models
    read them) train a softmax regression from the sentence vector to the named shape; every
    instruction each group of the held-out ``suite`` can make is then classified.
    """
    from vla_fusion_ros.model.config import LanguageConfig
    from vla_fusion_ros.model.language import text_inputs
    config = LanguageConfig(kind='minilm', color_lexicon=True, mask_colors=True)

    def vectors(texts: Sequence[str]) -> torch.Tensor:
        inputs = text_inputs(tokenizer, texts, config)
        return module(inputs['token_ids'], inputs['mask'])[1]

    return {name: right for name, (right, _) in fit_readout(vectors, suite, count, seed).items()}


def adapter_features(path: str):
    """
    Return a function: texts -> what fusion reads of them in the checkpoint at ``path``.

    Each fusion point's adapter output (:meth:`FusionModel.condition`; token features
    averaged over the real tokens), the points side by side: [B, points * D].
    """
    from vla_fusion_ros.model.attention import masked_mean
    from vla_fusion_ros.model.checkpoint import load_checkpoint
    from vla_fusion_ros.model.language import text_inputs
    model, tokenizer, config, _ = load_checkpoint(path)
    model.eval()

    def features(texts: Sequence[str]) -> torch.Tensor:
        inputs = text_inputs(tokenizer, texts, config.language)
        out = model.condition(model.encode_text(inputs['token_ids'], inputs['mask'],
                                                inputs.get('colors')))
        if 'sentence' in out:
            return out['sentence'].flatten(1)  # [B, L * D]
        return torch.cat([masked_mean(out['tokens'][:, point], out['mask'])
                          for point in range(out['tokens'].shape[1])], 1)  # [B, L * D]

    return features


def fit_readout(features, suite, count: int = 4000, seed: int = 0
                ) -> Dict[str, Tuple[float, Dict[str, float]]]:
    """
    Fit a linear read-out of ``features`` (texts -> [B, F]) to the named shape; test ``suite``.

    ``count`` sentences of the training language train a softmax regression; every
    instruction each group of ``suite`` can make is then classified. Returns, per group, the
    share named right and the share per shape word.
    """
    from vla_fusion_ros.sim.instructions import make_training_instruction
    from vla_fusion_ros.sim.shapes import COLORS, SHAPES
    rng = np.random.default_rng(seed)

    def vectors(texts: Sequence[str]) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([features(texts[first:first + 256])
                              for first in range(0, len(texts), 256)])

    colors = list(COLORS)
    labels = rng.integers(len(SHAPES), size=count)
    texts = [make_training_instruction(colors[int(rng.integers(len(colors)))], SHAPES[k], rng)
             for k in labels]
    x, y = vectors(texts), torch.as_tensor(labels)
    torch.manual_seed(seed)
    layer = torch.nn.Linear(x.shape[1], len(SHAPES))
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.01)
    for _ in range(300):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(layer(x), y).backward()
        optimizer.step()
    result = {}
    for name, group in suite.items():
        cases = [(text.format(color=color, shape=word), k, word) for text in group.phrasings
                 for color in (group.colors.get(c, [c])[0] for c in colors)
                 for k, shape in enumerate(SHAPES) for word in group.shapes.get(shape, [shape])]
        with torch.no_grad():
            right = (layer(vectors([t for t, _, _ in cases])).argmax(1)
                     == torch.tensor([k for _, k, _ in cases])).numpy()
        words = {w: float(right[[c[2] == w for c in cases]].mean())
                 for w in dict.fromkeys(c[2] for c in cases)}
        result[name] = (float(right.mean()), words)
    return result


def adapter_lines(checkpoints: Sequence[Tuple[str, str]], suite, group: str) -> List[str]:
    """Markdown: the read-out of each checkpoint's adapters, per shape word of ``group``."""
    found = [(name, fit_readout(adapter_features(path), suite)) for name, path in checkpoints]
    words = list(found[0][1][group][1])
    lines = ['| word | ' + ' | '.join(name for name, _ in found) + ' |',
             '|---|' + '---|' * len(found)]
    lines += [f'| {word} | ' + ' | '.join(f'{result[group][1][word]:.0%}'
                                          for _, result in found) + ' |' for word in words]
    lines.append(f'| **{group}** | ' + ' | '.join(f'{result[group][0]:.1%}'
                                                  for _, result in found) + ' |')
    return lines


def lexicon_line(truth: Dict[str, str]) -> str:
    """Say what the colour lexicon makes of each held-out colour word (its nearest hue)."""
    from vla_fusion_ros.sim.color_lexicon import lexicon, lookup
    from vla_fusion_ros.sim.color_synonyms import palette_color
    cells, right = [], 0
    for word, name in truth.items():
        found = lookup(word)
        guess = palette_color(lexicon()[found]) if found else ''
        right += guess == name
        shown = f'{found} {"#%02x%02x%02x" % tuple(round(255 * c) for c in lexicon()[found])}' \
            if found else 'not in the lexicon'
        cells.append(f'{word} ({shown}): {guess or "no palette hue"}')
    return ('The colour lexicon (`language.color_lexicon`), the same words: '
            + '; '.join(cells) + f'. Nearest palette hue right: {right / len(truth):.0%}.')


def main(argv=None) -> int:
    """Probe the held-out colour and shape synonyms; print and write a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--out', help='write the markdown report here')
    parser.add_argument('--checkpoint', action='append', default=[], metavar='PATH',
                        help='also read out what fusion reads in this model (repeatable)')
    parser.add_argument('--name', action='append', default=[],
                        help="the checkpoint's column heading, in order (default: its path)")
    args = parser.parse_args(argv)
    if len(args.name) > len(args.checkpoint):
        parser.error('--name: more names than checkpoints')
    for path in args.checkpoint:
        if not os.path.isfile(path):
            print(f'language_probe: --checkpoint: no such file: {path}', file=sys.stderr)
            return 2
    names = args.name + args.checkpoint[len(args.name):]
    torch.set_num_threads(1)
    from vla_fusion_ros.model.minilm import MiniLMModule, MiniLMTokenizer
    module, tokenizer = MiniLMModule().eval(), MiniLMTokenizer(24)
    suite = load_suite()
    lines = ['# What the frozen MiniLM knows of the held-out synonyms', '',
             'Command: `python -m vla_fusion_ros.tools.language_probe'
             + ''.join(f' {a}' for a in (argv if argv is not None else sys.argv[1:])) + '`. '
             'Nearest centroid (cosine) of the training words of each name, per layer of the '
             'encoder (0: word-piece embeddings; 6: the last, which the policy reads). Chance: '
             '25% for colours, 33% for shapes.', '']
    for slot, train, group in (('color', TRAINING_COLOR_SYNONYMS, 'unseen_color_synonyms'),
                               ('shape', TRAINING_SHAPE_SYNONYMS, 'unseen_shape_synonyms')):
        table = getattr(suite[group], 'colors' if slot == 'color' else 'shapes')
        result = probe(module, tokenizer, train, table, slot)
        lines += [f'## {group}', '', '| word (is) | ' + ' | '.join(f'layer {k}' for k in LAYERS)
                  + ' |', '|---|' + '---|' * len(LAYERS)]
        for word, guesses in result['guesses'].items():
            truth = result['truth'][word]
            lines.append(f'| {word} ({truth}) | ' + ' | '.join(
                g if g == truth else f'~~{g}~~' for g in guesses) + ' |')
        lines.append('| **right** | ' + ' | '.join(f'{a:.0%}' for a in result['accuracy'])
                     + ' |')
        lines.append('')
        if slot == 'color':
            lines += [lexicon_line(result['truth']), '']
        else:
            lines += ['The sentence vector, which operators that read one vector adapt (FiLM, '
                      'Hadamard, concat-MLP; the token features above reach only the '
                      'operators that attend to words), each held-out word in "go to the red '
                      '<word>":', '', *sentence_probe(module, tokenizer, table), '']
    readout = readout_probe(module, tokenizer, suite)
    lines += ['## A linear read-out of the sentence vector', '',
              'A softmax regression from the sentence vector (colour names masked) to the named '
              'shape, trained on 4,000 sentences of the training language '
              '(`readout_probe`), then given every instruction each group of the held-out '
              'suite can make. Chance: 33%.', '', '| group | shape named right |', '|---|---|',
              *(f'| {name} | {value:.1%} |' for name, value in readout.items()), '']
    if args.checkpoint:
        lines += ["## The same read-out of what each model's fusion reads", '',
                  'The same regression, fitted on the same 4,000 sentences, from each trained '
                  "model's adapter outputs (`adapter_features`: what fusion reads, the fusion "
                  'points side by side) instead of the frozen sentence vector; the share of the '
                  'held-out shape-synonym instructions it names right, per word. A word the '
                  'frozen vector names but the adapters do not was lost in training the policy.',
                  '', *adapter_lines(list(zip(names, args.checkpoint)), suite,
                                     'unseen_shape_synonyms'), '']
    text = '\n'.join(lines)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w', encoding='utf-8') as handle:
            handle.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
