# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Natural-language instructions for the simulated world: templates with synonyms, and a parser.

Every instruction names exactly one colour word and one shape word, in that order, inside a
template such as ``'drive toward the {color} {shape}'``. The text is lower case, words are
separated by single spaces, and there is no punctuation, so a word-level tokenizer that splits on
whitespace sees only the words of :data:`VOCABULARY`.

**Training language** (:func:`make_training_instruction`) says more: the templates plus
reordered, shortened and other phrasings (:data:`TRAINING_PHRASINGS`) with greetings, polite
forms, adverbs and punctuation around them, colour synonyms from the colour lexicon (every name
whose hue is unambiguously near a palette colour: crimson, navy blue, sunflower, ...;
:mod:`vla_fusion_ros.sim.color_synonyms`) and shape synonyms (ball, disc, round one, cube, box,
block, ...), every word of it in :data:`TRAINING_VOCABULARY`. A separate held-out suite of
phrasings, synonyms and distractor words, ``heldout_language.yaml`` beside this file, is read
only by evaluation (:mod:`vla_fusion_ros.train.language_eval`); a test checks that nothing in it
can come out of this module.

:func:`parse_instruction` inverts :func:`make_instruction` (and accepts a little more: upper
case, punctuation, extra words), so the expert and the evaluator can recover the target from the
text alone.
"""

import re
from typing import Dict, FrozenSet, List, Optional, Tuple

import numpy as np

from vla_fusion_ros.sim.color_synonyms import training_color_synonyms
from vla_fusion_ros.sim.shapes import COLORS, SHAPES

#: Sentence templates. ``{color}`` and ``{shape}`` are replaced by words of the tables below.
TEMPLATES: Tuple[str, ...] = (
    'go to the {color} {shape}',
    'drive to the {color} {shape}',
    'drive toward the {color} {shape}',
    'navigate to the {color} {shape}',
    'head for the {color} {shape}',
    'head toward the {color} {shape}',
    'move to the {color} {shape}',
    'approach the {color} {shape}',
    'reach the {color} {shape}',
    'find the {color} {shape}',
)

#: The canonical template, used when the world is configured for canonical instructions.
CANONICAL_TEMPLATE = TEMPLATES[0]

#: Words that name each colour. One word each: colours have no safe synonyms here.
COLOR_WORDS = {name: (name,) for name in COLORS}

#: Words that name each shape. Kept to the shapes' own names: any synonym must also be in the
#: model tokenizer's vocabulary, and 'box' or 'ball' would invite confusion with real objects.
SHAPE_WORDS = {name: (name,) for name in SHAPES}

#: Training-only colour synonyms: every name of the colour lexicon whose hue is unambiguously
#: near one palette colour (:mod:`vla_fusion_ros.sim.color_synonyms`; about 100 a colour:
#: 'crimson', 'navy blue', 'sunflower', 'forest green', ...), the held-out suite's excluded.
TRAINING_COLOR_SYNONYMS: Dict[str, Tuple[str, ...]] = training_color_synonyms()

#: Training-only shape synonyms; several words are one name ('round one').
TRAINING_SHAPE_SYNONYMS: Dict[str, Tuple[str, ...]] = {
    'circle': ('ball', 'disc', 'disk', 'round one', 'dot', 'ring', 'globe', 'circular one',
               'round thing', 'oval', 'ellipse', 'wheel', 'coin', 'hoop', 'loop', 'bubble',
               'round object', 'roundel', 'round shape', 'bead', 'pearl', 'marble', 'planet',
               'moon', 'button', 'circular thing'),
    'square': ('cube', 'box', 'block', 'rectangle', 'four sided one', 'boxy one',
               'quadrilateral', 'cuboid', 'slab', 'rectangular one', 'cubic one',
               'squared one', 'four cornered one', 'right angled one', 'box shape', 'carton',
               'chest', 'square thing', 'boxy thing', 'container', 'plank'),
    'triangle': ('pyramid', 'wedge', 'three sided one', 'arrowhead', 'pointy one',
                 'three cornered one', 'delta', 'spike', 'tent', 'peak', 'trigon',
                 'three pointed one', 'spearhead', 'pennant', 'arrow', 'pointed shape',
                 'horn', 'spire', 'funnel', 'fang', 'beak', 'pointed thing', 'sharp one'),
}

#: Training phrasings: the templates, then reordered (shape before colour), shortened and
#: other phrasings.
TRAINING_PHRASINGS: Tuple[str, ...] = TEMPLATES + (
    '{color} {shape}',
    'the {color} {shape}',
    'to the {color} {shape}',
    'go to the {shape} that is {color}',
    'drive to the {shape} which is {color}',
    'find the {shape} that is {color}',
    'the {color} {shape} is your target',
    'your goal is the {color} {shape}',
    'i want you to reach the {color} {shape}',
    'go over to the {color} {shape}',
    'get to the {color} {shape}',
    'move toward the {color} {shape}',
    'drive up to the {color} {shape}',
    'steer toward the {color} {shape}',
    'come to the {color} {shape}',
    'head over to the {color} {shape}',
    'the target is the {color} {shape}',
    'get close to the {color} {shape}',
    'move next to the {color} {shape}',
    'go up to the {shape} that is {color}',
    'the {shape}, the {color} one',
    'i need you at the {color} {shape}',
)

#: Greetings, polite forms and adverbs before a phrasing, and after it. Their words are
#: none of the held-out suite's (a test checks), so its distractor words stay unseen.
TRAINING_PREFIXES: Tuple[str, ...] = (
    'please ', 'could you ', 'can you ', 'now ', 'hello, ', 'hi, ', 'ok, ', 'so ', 'well, ',
    'listen, ', 'pardon, ', 'right, ', 'next, ', 'i need you to ', 'go ahead and ',
    'just ', 'kindly ', 'could you please ', 'greetings, ', 'good morning, ', 'slowly ',
    'gently ', 'calmly ', 'uh, ', 'hmm, ', 'buddy, ', 'friend, ',
    'attention, ', 'first, ', 'er, ', 'look, ', 'yes, ', 'sure, ', 'very well, ', 'rover, ',
    'little rover, ', 'dear machine, ', 'machine, ', 'when you can, ', 'bot, ', 'ok bot, ',
    'right then, ', 'droid, ', 'so, bot, ', 'listen up, ', 'yo, ')
TRAINING_SUFFIXES: Tuple[str, ...] = (
    ' please', ' now', ' thank you', ' right now', ' immediately', ' slowly', ' gently',
    ' if you can', ' when you are ready', ' at once', ' straight away',
    ' without delay', ', thank you', ', please', ' next', ' right away', ' promptly',
    ' in a moment', ' please and thank you', ', cheers', ', will you',
    ' in the room', ' across the arena', ' by the wall', ' at your own pace', ' with care',
    ' swiftly', ' rapidly', ', yes', ', got it', ' then wait', ' shortly', ' later',
    ' in a bit', ' with speed', ', all right', ', fine', ' for now', ' directly')
#: Punctuation at the end (the word-level encoder ignores it; MiniLM reads it).
TRAINING_ENDINGS: Tuple[str, ...] = ('.', '!', '?')

#: Probabilities that a training instruction uses a synonym (colour and shape each), a
#: prefix, a suffix, an ending.
SYNONYM_PROB, PREFIX_PROB, SUFFIX_PROB, ENDING_PROB = 0.5, 0.3, 0.3, 0.15

_WORD_TO_COLOR = {word: name for name, words in COLOR_WORDS.items() for word in words}
_WORD_TO_SHAPE = {word: name for name, words in SHAPE_WORDS.items() for word in words}
_SYNONYM_TO_NAME = {**{w: n for n, ws in TRAINING_COLOR_SYNONYMS.items() for w in ws},
                    **{w: n for n, ws in TRAINING_SHAPE_SYNONYMS.items() for w in ws}}


#: Any synonym as whole words, the longest first ('navy blue' before 'navy').
_SYNONYMS = re.compile(r'\b(?:' + '|'.join(
    re.escape(w) for w in sorted(_SYNONYM_TO_NAME, key=len, reverse=True)) + r')\b')


def _vocabulary() -> FrozenSet[str]:
    words = set(_WORD_TO_COLOR) | set(_WORD_TO_SHAPE)
    for template in TEMPLATES:
        words.update(w for w in template.split() if not w.startswith('{'))
    return frozenset(words)


#: Every word that :func:`make_instruction` can produce.
VOCABULARY: FrozenSet[str] = _vocabulary()


def _training_vocabulary() -> FrozenSet[str]:
    words = set(VOCABULARY)
    for phrase in (*TRAINING_PHRASINGS, *TRAINING_PREFIXES, *TRAINING_SUFFIXES,
                   *_SYNONYM_TO_NAME):
        words.update(re.findall(r'[a-z]+', re.sub(r'{\w+}', ' ', phrase)))
    return frozenset(words)


#: Every word that :func:`make_training_instruction` can produce.
TRAINING_VOCABULARY: FrozenSet[str] = _training_vocabulary()


def make_instruction(color: str, shape: str, rng: Optional[np.random.Generator] = None,
                     canonical: bool = False) -> str:
    """
    Return an instruction that names the ``color`` ``shape``.

    :param color: a key of :data:`vla_fusion_ros.sim.shapes.COLORS`.
    :param shape: one of :data:`vla_fusion_ros.sim.shapes.SHAPES`.
    :param rng: picks the template and the synonyms; ``None`` or ``canonical=True`` gives the
        canonical form ``'go to the <color> <shape>'``.
    :raises ValueError: for an unknown colour or shape (the message lists the valid ones).
    """
    if color not in COLOR_WORDS:
        raise ValueError(f'color: unknown {color!r} (valid: {", ".join(COLOR_WORDS)})')
    if shape not in SHAPE_WORDS:
        raise ValueError(f'shape: unknown {shape!r} (valid: {", ".join(SHAPE_WORDS)})')
    if rng is None or canonical:
        return CANONICAL_TEMPLATE.format(color=color, shape=shape)
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    color_word = COLOR_WORDS[color][int(rng.integers(len(COLOR_WORDS[color])))]
    shape_word = SHAPE_WORDS[shape][int(rng.integers(len(SHAPE_WORDS[shape])))]
    return template.format(color=color_word, shape=shape_word)


def make_training_instruction(color: str, shape: str, rng: np.random.Generator) -> str:
    """
    Return a training instruction for the ``color`` ``shape``.

    A phrasing of :data:`TRAINING_PHRASINGS` with the names or their synonyms, maybe with a
    prefix, a suffix and an ending.

    Half the colour words and half the shape words are the objects' own names.
    """
    if color not in COLOR_WORDS:
        raise ValueError(f'color: unknown {color!r} (valid: {", ".join(COLOR_WORDS)})')
    if shape not in SHAPE_WORDS:
        raise ValueError(f'shape: unknown {shape!r} (valid: {", ".join(SHAPE_WORDS)})')
    phrasing = TRAINING_PHRASINGS[int(rng.integers(len(TRAINING_PHRASINGS)))]
    words = []
    for name, synonyms in ((color, TRAINING_COLOR_SYNONYMS[color]),
                           (shape, TRAINING_SHAPE_SYNONYMS[shape])):
        use = rng.random() < SYNONYM_PROB
        words.append(synonyms[int(rng.integers(len(synonyms)))] if use else name)
    text = phrasing.format(color=words[0], shape=words[1])
    if rng.random() < PREFIX_PROB:
        text = TRAINING_PREFIXES[int(rng.integers(len(TRAINING_PREFIXES)))] + text
    if rng.random() < SUFFIX_PROB:
        text += TRAINING_SUFFIXES[int(rng.integers(len(TRAINING_SUFFIXES)))]
    if rng.random() < ENDING_PROB:
        text += TRAINING_ENDINGS[int(rng.integers(len(TRAINING_ENDINGS)))]
    return text


def all_instructions(color: str, shape: str) -> List[str]:
    """Return every instruction the templates can produce for one target, in template order."""
    return [template.format(color=c, shape=s) for template in TEMPLATES
            for c in COLOR_WORDS[color] for s in SHAPE_WORDS[shape]]


def parse_instruction(text: str) -> Optional[Tuple[str, str]]:
    """
    Return the ``(color, shape)`` an instruction names, or ``None`` if it is not exactly one.

    Case and punctuation are ignored, and the training synonyms count as their names. The text
    must contain exactly one colour word and exactly one shape word (repeats of the same word
    count once); anything else is ambiguous and gives ``None``.
    """
    text = ' '.join(re.findall(r'[a-z]+', text.lower()))
    words = _SYNONYMS.sub(lambda m: _SYNONYM_TO_NAME[m.group()], text).split()
    colors = {_WORD_TO_COLOR[w] for w in words if w in _WORD_TO_COLOR}
    shapes = {_WORD_TO_SHAPE[w] for w in words if w in _WORD_TO_SHAPE}
    if len(colors) != 1 or len(shapes) != 1:
        return None
    return colors.pop(), shapes.pop()
