# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The held-out language suite never leaks into training, and its evaluation is per group.

Training's generator (:func:`make_training_instruction`) is enumerated exhaustively for one
target: none of its instructions may equal a held-out one, no held-out synonym word may be a
word it says, and every held-out phrasing must hold a word it never says.
"""

import itertools
import re

import numpy as np
import pytest

from vla_fusion_ros.model import ModelConfig, VLAPolicy
from vla_fusion_ros.sim import instructions as ins
from vla_fusion_ros.sim.shapes import COLORS, SHAPES
from vla_fusion_ros.train import language_eval

SUITE = language_eval.load_suite()


def words(text):
    return set(re.findall(r'[a-z]+', text.lower()))


def training_instructions(color, shape):
    """Every instruction the training generator can say for one target."""
    colors = (color, *ins.TRAINING_COLOR_SYNONYMS[color])
    shapes = (shape, *ins.TRAINING_SHAPE_SYNONYMS[shape])
    out = set()
    for phrasing, c, s in itertools.product(ins.TRAINING_PHRASINGS, colors, shapes):
        core = phrasing.format(color=c, shape=s)
        for prefix in ('', *ins.TRAINING_PREFIXES):
            for suffix in ('', *ins.TRAINING_SUFFIXES):
                out.add(prefix + core + suffix)
    return out


def test_the_enumeration_covers_what_the_generator_says():
    every = training_instructions('blue', 'triangle')
    rng = np.random.default_rng(0)
    said = {ins.make_training_instruction('blue', 'triangle', rng) for _ in range(3000)}
    assert said <= every and len(said) > 300
    assert set().union(*map(words, every)) <= ins.TRAINING_VOCABULARY


def test_suite_has_the_groups_and_one_reference():
    assert list(SUITE) == ['templates', 'unseen_phrasings', 'unseen_color_synonyms',
                           'unseen_shape_synonyms', 'distractor_words']
    assert [g.name for g in SUITE.values() if g.reference] == ['templates']
    # The reference is exactly the training templates with the objects' own names.
    assert tuple(SUITE['templates'].phrasings) == ins.TEMPLATES


@pytest.mark.parametrize('name', [n for n, g in SUITE.items() if not g.reference])
def test_no_held_out_word_or_phrase_can_come_out_of_training(name):
    group = SUITE[name]
    for phrasing in group.phrasings:
        assert words(phrasing.replace('{color}', '').replace('{shape}', '')) - \
            ins.TRAINING_VOCABULARY or group.colors or group.shapes, \
            f'{name}: {phrasing!r} has no word training never says'
    for table in (group.colors, group.shapes):
        for synonyms in table.values():
            for synonym in synonyms:
                seen = (words(synonym) - {'one'}) & ins.TRAINING_VOCABULARY
                assert not seen, f'{name}: {synonym!r} uses training words {seen}'
    for color, shape in itertools.product(COLORS, SHAPES):
        trained = training_instructions(color, shape)
        for seed in range(60):
            text = group.instruction(color, shape, seed, 1)
            assert text not in trained, f'{name}: training can say {text!r}'


def test_every_group_phrases_the_scene_target():
    for salt, group in enumerate(SUITE.values()):
        texts = {group.instruction('red', 'square', seed, salt) for seed in range(50)}
        assert len(texts) > 1
        if not group.colors:
            assert all('red' in t for t in texts)
        if not group.shapes:
            assert all('square' in t for t in texts)
        assert group.instruction('red', 'square', 7, salt) == \
            group.instruction('red', 'square', 7, salt)


def test_a_broken_suite_is_refused_by_name(tmp_path):
    path = tmp_path / 'suite.yaml'
    path.write_text('groups:\n  a:\n    reference: true\n    phrasings: ["go to the {color}"]\n')
    with pytest.raises(ValueError, match=r'groups\.a\.phrasings'):
        language_eval.load_suite(str(path))
    path.write_text('groups:\n  a:\n    reference: true\n    phrasings: ["{color} {shape}"]\n'
                    '    colors: {red: [ruby]}\n')
    with pytest.raises(ValueError, match=r'groups\.a\.colors: must list every'):
        language_eval.load_suite(str(path))


def test_evaluation_reports_every_group_on_the_same_scenes():
    config = ModelConfig.from_dict({'vision': {'width': 8, 'depth': 2, 'norm_groups': 4},
                                    'language': {'width': 8, 'heads': 2},
                                    'fusion': {'layers': [1], 'dim': 8, 'heads': 2},
                                    'head': {'hidden': 16, 'queries': 2}})
    policy = VLAPolicy.from_config(config)
    result = language_eval.evaluate_suite(policy, 3, suite=SUITE)
    assert list(result) == [*SUITE, 'uninformative']
    seeds = {tuple(r['seed'] for r in s['reports']) for s in result.values()}
    assert len(seeds) == 1
    phrased = result['unseen_color_synonyms']['reports']
    assert all(not words(r['instruction']) & set(COLORS) for r in phrased)
    assert result['templates']['vs_reference']['difference'] == 0.0
    verdict = language_eval.verdict(result)
    assert verdict['held_out_episodes'] == 12
    models = {'tiny': {'groups': result, 'verdict': verdict}}
    report = language_eval.format_report({'models': models, 'episodes': 3,
                                          'seed_start': 1_000_000})
    for name in (*SUITE, 'uninformative'):
        assert name in report
