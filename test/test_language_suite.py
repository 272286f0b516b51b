# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The held-out language suite never leaks into training, and its evaluation is per group.

Training's generator (:func:`make_training_instruction`) says only words of
``TRAINING_VOCABULARY`` (checked on thousands of samples and on every synonym, phrasing and
filler); every held-out instruction holds a word outside it, so training can never say one.
The colour synonyms come from the colour lexicon by hue: the held-out ones are kept out only by
the generator's fixed exclusion list, so they lie inside the colours training covers.
"""

import json
import os
import re

import numpy as np
import pytest

from vla_fusion_ros.model import ModelConfig, save_checkpoint, VLAPolicy
from vla_fusion_ros.sim import color_synonyms, instructions as ins
from vla_fusion_ros.sim.color_lexicon import lexicon, lookup
from vla_fusion_ros.sim.shapes import COLORS, SHAPES
from vla_fusion_ros.train import language_eval

SUITE = language_eval.load_suite()


def words(text):
    return set(re.findall(r'[a-z]+', text.lower()))


def held_out_words(suite=SUITE):
    """Every word of the suite's instructions that the templates do not say."""
    out = set()
    for group in suite.values():
        for phrasing in group.phrasings:
            out |= words(phrasing.replace('{color}', ' ').replace('{shape}', ' '))
        for table in (group.colors, group.shapes):
            for synonyms in table.values():
                for synonym in synonyms:
                    out |= words(synonym)
    return out - ins.VOCABULARY


def test_the_generator_says_only_training_words():
    rng = np.random.default_rng(0)
    for color in COLORS:
        for shape in SHAPES:
            for _ in range(500):
                text = ins.make_training_instruction(color, shape, rng)
                assert words(text) <= ins.TRAINING_VOCABULARY, text
                assert ins.parse_instruction(text) == (color, shape), text
    parts = [*ins.TRAINING_PHRASINGS, *ins.TRAINING_PREFIXES, *ins.TRAINING_SUFFIXES,
             *(s for table in (ins.TRAINING_COLOR_SYNONYMS, ins.TRAINING_SHAPE_SYNONYMS)
               for synonyms in table.values() for s in synonyms)]
    said = set().union(*(words(p.replace('{color}', ' ').replace('{shape}', ' '))
                         for p in parts))
    assert said | ins.VOCABULARY == ins.TRAINING_VOCABULARY


def test_training_never_says_a_word_of_the_held_out_suite():
    # 'one' is generic ('triangular one' is held out, 'round one' is trained); 'you', 'your',
    # 'i', 'over', 'is', 'and' and 'a' are words of phrasings that differ elsewhere.
    shared = held_out_words() & ins.TRAINING_VOCABULARY
    assert shared <= {'one', 'you', 'your', 'i', 'over', 'is', 'and', 'a'}, shared
    for name in ('unseen_color_synonyms', 'unseen_shape_synonyms'):
        for synonyms in (*SUITE[name].colors.values(), *SUITE[name].shapes.values()):
            for synonym in synonyms:
                assert not (words(synonym) - {'one'}) & ins.TRAINING_VOCABULARY, synonym


def test_the_validation_suite_says_words_neither_training_nor_the_test_says():
    """Models are chosen on the validation suite; its new words must be new to both."""
    path = os.path.join(os.path.dirname(language_eval.SUITE_PATH), 'validation_language.yaml')
    validation = language_eval.load_suite(path)
    said = held_out_words(validation)
    assert said & ins.TRAINING_VOCABULARY <= {'by'}, said & ins.TRAINING_VOCABULARY
    new = said - ins.TRAINING_VOCABULARY
    assert not new & held_out_words(), new & held_out_words()
    for group in validation.values():
        if group.reference:
            continue
        for phrasing in group.phrasings:  # every instruction holds a new word
            assert group.shapes or words(phrasing) & new, phrasing
        for synonyms in group.shapes.values():
            assert all(words(s) <= new for s in synonyms), synonyms


def test_colour_synonyms_come_from_the_lexicon_by_hue():
    table = ins.TRAINING_COLOR_SYNONYMS
    assert set(table) == set(COLORS)
    assert all(len(names) >= 50 for names in table.values())
    for color, names in table.items():
        for name in names:
            assert color_synonyms.palette_color(lexicon()[name]) == color, name
    # The held-out colour words are lexicon colours the hue rule would have picked: only the
    # exclusion list keeps them out, so they test colours inside the trained range.
    for color, held_out in SUITE['unseen_color_synonyms'].colors.items():
        for word in held_out:
            name = lookup(word)
            assert name, f'{word} is not in the lexicon'
            assert color_synonyms.palette_color(lexicon()[name]) == color, word
            assert word in color_synonyms.EXCLUDED_WORDS


def test_suite_has_the_groups_and_one_reference():
    assert list(SUITE) == ['templates', 'unseen_phrasings', 'unseen_color_synonyms',
                           'unseen_shape_synonyms', 'distractor_words']
    assert [g.name for g in SUITE.values() if g.reference] == ['templates']
    # The reference is exactly the training templates with the objects' own names.
    assert tuple(SUITE['templates'].phrasings) == ins.TEMPLATES


@pytest.mark.parametrize('name', [n for n, g in SUITE.items() if not g.reference])
def test_every_held_out_instruction_has_a_word_training_never_says(name):
    group = SUITE[name]
    for color in COLORS:
        for shape in SHAPES:
            for seed in range(60):
                text = group.instruction(color, shape, seed, 1)
                assert words(text) - ins.TRAINING_VOCABULARY, \
                    f'{name}: training could say {text!r}'


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
    assert report.startswith('# Held-out language suite') and '3 held-out scenes' in report
    other = language_eval.format_report({'models': models, 'episodes': 3, 'seed_start': 3_000_000,
                                         'suite': '/x/validation_language.yaml'})
    assert other.startswith('# Language suite validation_language.yaml')
    assert '3 scenes (seeds 3000000..3000002)' in other and '| pooled (all but' in other
    models['tiny']['verdict'] = dict(verdict, synonyms={})
    assert '| no such group in this suite |' in language_eval.format_report(
        {'models': models, 'episodes': 3, 'seed_start': 3_000_000})


def test_one_command_reports_every_world(tmp_path):
    config = ModelConfig.from_dict({'vision': {'width': 8, 'depth': 2, 'norm_groups': 4},
                                    'language': {'width': 8, 'heads': 2,
                                                 'color_lexicon': True},
                                    'fusion': {'layers': [1], 'dim': 8, 'heads': 2},
                                    'head': {'hidden': 16, 'queries': 2}})
    policy = VLAPolicy.from_config(config)
    args = []
    for world in ('overhead', 'first_person'):
        path = str(tmp_path / f'{world}.safetensors')
        save_checkpoint(path, policy.model, policy.tokenizer, config,
                        {'training': {'world_name': world}})
        args += ['--name', f'tiny-{world}', '--checkpoint', path]
    assert language_eval.main([*args, '--episodes', '1']) == 2  # two worlds need --out
    assert language_eval.main([*args, '--episodes', '1', '--out', str(tmp_path / 'out'),
                               '--no-progress']) == 0
    for world in ('overhead', 'first_person'):
        results = json.loads((tmp_path / 'out' / f'{world}.json').read_text())
        assert results['world'] == world and list(results['models']) == [f'tiny-{world}']
        assert results['models'][f'tiny-{world}']['color_lexicon'] is True
        report = (tmp_path / 'out' / f'{world}.md').read_text()
        assert 'words + colour lexicon' in report and 'unseen_color_synonyms' in report
