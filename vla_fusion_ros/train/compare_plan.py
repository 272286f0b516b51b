# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The plan of the fusion comparison: variants, budgets, and the choices made on validation scenes.

For every world and language encoder the sweep runs three stages; a stage starts when the one
before it has finished (for that world and encoder), and its jobs follow from the choices the
finished ones allow, so the plan is a pure function of the results on disk:

1. ``tune``: every base variant (each operator at the default placement ``multi``, and the
   baselines ``early``, ``late``, ``late_tokens``, ``vision_only``) at each learning rate of
   ``lrs``, one seed (``tune_seed``, never one of the seeded runs'), trained to the tuning budget
   and scored on VALIDATION scenes. Each variant keeps the rate with the best score
   (:func:`score`). Every variant gets the same tuning budget; an operator's other placements
   keep its rate.
2. ``place``: every operator at its other placements, with its tuned rate, scored the same way;
   each operator keeps its best placement.
3. ``seeded``: every operator at its best placement, the ``sweep_top`` best operators (on
   validation) at their other placements too, and the baselines; ``seeds`` seeds each, on a
   schedule to the largest budget, evaluated on TEST scenes at every point of ``points``, each
   time also with an uninformative instruction (the no-information floor). With ``finalists``
   = k > 0, only the k best operators at their best placements (the validation ranking) and the
   ``full_baselines`` train to the largest budget; the others stop at ``short_budget`` (the
   same schedule, so their curves are exactly what a full run's would be up to there). One
   ``anneal`` job beside them trains the best operator with seed 0 on a schedule that ends at
   the middle point: the price, at that point, of a schedule that runs to the largest budget.

Each language encoder after the first in ``languages`` runs a smaller sweep once the first one's
choices are made: only the first encoder's ``secondary_finalists`` best operators (at their
placements) and ``secondary_baselines``, tuned alike, then seeded to the largest budget.

Every run of a stage uses the world's training config (data, recipe, model) apart from the
fusion settings, the learning rate, the seed and the schedule's length; the learning rate warms
up over the first 5% of the steps and decays (cosine) to the end of the run's own budget.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

from vla_fusion_ros.model import FUSION_OPERATORS
from vla_fusion_ros.sim.base import EVAL_SEED_START, VAL_CLOSED_LOOP_SEED_START

#: Placements of the intermediate operators in the 4-layer CNN: name -> fused vision layers.
PLACEMENTS: Dict[str, List[int]] = {'early': [0], 'middle': [2], 'multi': [1, 2]}
#: The placement each operator is tuned at (the shipped design's).
DEFAULT_PLACEMENT = 'multi'
#: The baselines: fusion modes without an operator.
BASELINES = ('early', 'late', 'late_tokens', 'vision_only')
#: Training config of each world.
WORLD_CONFIGS = {'overhead': 'config/train_overhead.yaml',
                 'first_person': 'config/train_first_person.yaml'}
#: Config overrides of each language encoder. Each names its encoder in full: the worlds' own
#: configs differ (the overhead model ships MiniLM, the first-person one the word encoder), and
#: an encoder's runs must be the same design in both worlds.
LANGUAGE_OVERRIDES: Dict[str, List[str]] = {
    'words': ['model.language.kind=words', 'model.language.color_lexicon=true',
              'model.language.mask_colors=false'],
    'minilm': ['model.language.kind=minilm', 'model.language.color_lexicon=true',
               'model.language.mask_colors=true'],
}
#: First scene seed of each split: validation scenes choose, test scenes report.
SPLIT_SEEDS = {'val': VAL_CLOSED_LOOP_SEED_START, 'test': EVAL_SEED_START}
#: Share of a run's steps spent warming the learning rate up.
WARMUP_SHARE = 0.05


@dataclass
class SweepPlan:
    """What the sweep runs: worlds, encoders, variants, budgets, seeds and scenes."""

    worlds: List[str] = field(default_factory=lambda: ['overhead', 'first_person'])
    languages: List[str] = field(default_factory=lambda: ['words'])
    # Training samples at which every seeded run is evaluated; the last is the run's budget.
    points: List[int] = field(default_factory=lambda: [64_000, 128_000, 256_000, 512_000,
                                                       1_024_000])
    # The tuning and placement runs' budget (a point of ``points``).
    tune_budget: int = 128_000
    batch_size: int = 128
    lrs: List[float] = field(default_factory=lambda: [1e-3, 2e-3, 4e-3])
    seeds: int = 3
    tune_seed: int = 100
    val_episodes: int = 100
    test_episodes: int = 200
    operators: List[str] = field(default_factory=lambda: list(FUSION_OPERATORS))
    # Placements tried per operator (names of PLACEMENTS); the default one is always tried.
    placements: List[str] = field(default_factory=lambda: list(PLACEMENTS))
    baselines: List[str] = field(default_factory=lambda: list(BASELINES))
    sweep_top: int = 2
    width: Optional[int] = None   # vision, language and fusion width; None: the config's
    # 0: every seeded variant trains to the largest budget; k: only the k best operators (on
    # validation) and full_baselines do, the others stop at short_budget.
    finalists: int = 2
    short_budget: Optional[int] = 256_000
    full_baselines: List[str] = field(default_factory=lambda: ['early', 'late', 'late_tokens'])
    # Each encoder after the first in languages: its tuning and seeded runs cover only the
    # first encoder's secondary_finalists best operators (at their placements) and these.
    secondary_finalists: int = 1
    secondary_baselines: List[str] = field(default_factory=lambda: ['early', 'late'])
    anneal: bool = True
    # Train in channels-last memory order (train_config: the same model and loss, faster).
    channels_last: bool = True
    configs: Dict[str, str] = field(default_factory=lambda: dict(WORLD_CONFIGS))

    def __post_init__(self):
        def need(ok: bool, name: str, rule: str, value: Any) -> None:
            if not ok:
                raise ValueError(f'{name}: {rule}, got {value!r}')

        need(bool(self.points) and sorted(set(self.points)) == list(self.points), 'points',
             'must be increasing sample counts', self.points)
        need(all(p % self.batch_size == 0 for p in self.points), 'points',
             f'must be multiples of batch_size={self.batch_size}', self.points)
        need(self.tune_budget in self.points, 'tune_budget', 'must be one of points',
             self.tune_budget)
        need(all(w in self.configs for w in self.worlds), 'worlds',
             f'must be among {", ".join(self.configs)}', self.worlds)
        need(all(lang in LANGUAGE_OVERRIDES for lang in self.languages), 'languages',
             f'must be among {", ".join(LANGUAGE_OVERRIDES)}', self.languages)
        need(all(op in FUSION_OPERATORS for op in self.operators), 'operators',
             f'must be among {", ".join(FUSION_OPERATORS)}', self.operators)
        need(DEFAULT_PLACEMENT in self.placements
             and all(p in PLACEMENTS for p in self.placements), 'placements',
             f'must include {DEFAULT_PLACEMENT!r}, among {", ".join(PLACEMENTS)}',
             self.placements)
        need(all(b in BASELINES for b in self.baselines), 'baselines',
             f'must be among {", ".join(BASELINES)}', self.baselines)
        need(self.seeds >= 1 and self.lrs and self.val_episodes >= 1
             and self.test_episodes >= 1, 'seeds, lrs, val_episodes, test_episodes',
             'must be positive', (self.seeds, self.lrs, self.val_episodes, self.test_episodes))
        need(0 <= self.sweep_top <= len(self.operators), 'sweep_top',
             f'must be in 0..{len(self.operators)}', self.sweep_top)
        need(0 <= self.finalists <= len(self.operators), 'finalists',
             f'must be in 0..{len(self.operators)}', self.finalists)
        need(not self.finalists or self.short_budget in self.points[:-1], 'short_budget',
             'must be a point of points below the largest when finalists > 0',
             self.short_budget)

    @property
    def tune_points(self) -> List[int]:
        """Return the points of a tuning run: those up to the tuning budget."""
        return [p for p in self.points if p <= self.tune_budget]

    @property
    def middle(self) -> int:
        """Return the point where the anneal check ends its schedule."""
        return self.points[len(self.points) // 2]


def variant(name: str) -> Dict[str, Any]:
    """Return a variant by name: ``operator@placement`` or a baseline."""
    if '@' in name:
        operator, placement = name.split('@')
        return {'name': name, 'group': 'intermediate', 'mode': 'intermediate',
                'operator': operator, 'placement': placement,
                'layers': list(PLACEMENTS[placement])}
    return {'name': name, 'group': name, 'mode': name, 'operator': 'film', 'placement': '-',
            'layers': []}


def base_variants(plan: SweepPlan) -> List[str]:
    """Return the tuning stage's variants: operators at the default placement, baselines."""
    return [f'{op}@{DEFAULT_PLACEMENT}' for op in plan.operators] + list(plan.baselines)


def overrides(plan: SweepPlan, job: Dict[str, Any]) -> List[str]:
    """Return the ``--set`` overrides of the world's config that make one run of ``job``."""
    steps = job['schedule'][-1] // plan.batch_size
    v = job['variant']
    layers = '[' + ', '.join(str(i) for i in v['layers']) + ']'
    out = [f'seed={job["seed"]}', 'threads=1', f'optim.lr={job["lr"]}',
           f'model.fusion.mode={v["mode"]}', f'model.fusion.operator={v["operator"]}',
           f'model.fusion.layers={layers}', f'schedule.batch_size={plan.batch_size}',
           f'schedule.steps={steps}', f'schedule.val_every={steps}',
           f'schedule.warmup_steps={max(1, round(WARMUP_SHARE * steps))}',
           'schedule.keep_steps=[' + ', '.join(str(p // plan.batch_size)
                                               for p in job['points']) + ']',
           'eval.val_episodes=0', 'eval.episodes=0',
           f'channels_last={"true" if plan.channels_last else "false"}']
    if plan.width:
        out += [f'model.vision.width={plan.width}', f'model.language.width={plan.width}',
                f'model.fusion.dim={plan.width}']
    return out + LANGUAGE_OVERRIDES[job['language']]


def make_job(plan: SweepPlan, stage: str, world: str, language: str, name: str, lr: float,
             seed: int, schedule: List[int], split: str,
             stop_at: Optional[int] = None) -> Dict[str, Any]:
    """
    Return one job: everything its process needs, and its id (its folder under the runs).

    The learning rate's schedule ends at ``schedule[-1]`` samples; the run evaluates every
    point of ``schedule`` up to ``stop_at`` (all by default) and stops there.
    """
    points = [p for p in schedule if stop_at is None or p <= stop_at]
    job = {'id': f'{world}/{language}/{stage}/{name}/lr{lr:g}/seed{seed}', 'stage': stage,
           'world': world, 'language': language, 'variant': variant(name), 'lr': lr,
           'seed': seed, 'schedule': list(schedule), 'points': points,
           'batch_size': plan.batch_size,
           'split': split, 'seed_start': SPLIT_SEEDS[split],
           'episodes': plan.val_episodes if split == 'val' else plan.test_episodes,
           'floor': split == 'test' and name != 'vision_only', 'config': plan.configs[world]}
    job['overrides'] = overrides(plan, job)
    return job


def score(result: Dict[str, Any]) -> Tuple[float, float, float]:
    """Score a validation run: success at its last point, then over its curve, then -loss."""
    points = result['points']
    rates = [p['eval']['success_rate'] for p in points]
    return (rates[-1], sum(rates) / len(rates), -(points[-1].get('val_loss') or 0.0))


def _groups(plan: SweepPlan) -> Iterator[Tuple[str, str]]:
    for world in plan.worlds:
        for language in plan.languages:
            yield world, language


def choices(plan: SweepPlan, results: Dict[str, Dict[str, Any]], world: str,
            language: str) -> Dict[str, Any]:
    """
    Return the choices made on validation so far for one world and encoder.

    ``lr``: variant -> tuned rate (once every tuning run is done); ``placement``: operator ->
    best placement, ``ranking``: operators best first, ``seeded``: the variants of the seeded
    stage (once every placement run is done).
    """
    out: Dict[str, Any] = {}
    names = tuned_variants(plan, results, world, language)
    if names is None:
        return out
    tune = {}
    for name in names:
        found = [(results.get(make_job(plan, 'tune', world, language, name, lr,
                                       plan.tune_seed, plan.tune_points, 'val')['id']), lr)
                 for lr in plan.lrs]
        if any(r is None for r, _ in found):
            return out
        tune[name] = max(found, key=lambda item: (score(item[0]), -item[1]))
    out['lr'] = {name: lr for name, (_, lr) in tune.items()}
    out['tune_scores'] = {name: {f'{lr:g}': list(score(results[make_job(
        plan, 'tune', world, language, name, lr, plan.tune_seed, plan.tune_points,
        'val')['id']])) for lr in plan.lrs} for name in tune}
    if language != plan.languages[0]:  # a second encoder: the first one's finalists only
        out['seeded'] = out['full'] = list(names)
        return out
    best: Dict[str, Tuple[Tuple[float, float, float], str]] = {}
    for op in plan.operators:
        lr = out['lr'][f'{op}@{DEFAULT_PLACEMENT}']
        scored = {DEFAULT_PLACEMENT: score(tune[f'{op}@{DEFAULT_PLACEMENT}'][0])}
        for placement in plan.placements:
            if placement != DEFAULT_PLACEMENT:
                job = make_job(plan, 'place', world, language, f'{op}@{placement}', lr,
                               plan.tune_seed, plan.tune_points, 'val')
                if job['id'] not in results:
                    return out
                scored[placement] = score(results[job['id']])
        out.setdefault('place_scores', {})[op] = {k: list(v) for k, v in scored.items()}
        best[op] = max((v, k) for k, v in scored.items())
    out['placement'] = {op: where for op, (_, where) in best.items()}
    out['ranking'] = sorted(plan.operators, key=lambda op: best[op][0], reverse=True)
    seeded = [f'{op}@{out["placement"][op]}' for op in out['ranking']]
    for op in out['ranking'][:plan.sweep_top]:
        seeded += [f'{op}@{p}' for p in plan.placements if p != out['placement'][op]]
    out['seeded'] = seeded + list(plan.baselines)
    out['full'] = out['seeded'] if not plan.finalists else (
        [f'{op}@{out["placement"][op]}' for op in out['ranking'][:plan.finalists]]
        + [b for b in plan.full_baselines if b in plan.baselines])
    return out


def tuned_variants(plan: SweepPlan, results: Dict[str, Dict[str, Any]], world: str,
                   language: str) -> Optional[List[str]]:
    """
    Return the variants the tuning stage runs for one world and encoder.

    The first encoder of ``languages`` tunes every base variant; each further encoder tunes
    (and then seeds to the largest budget) only the ``secondary_finalists`` best operators at
    the placements the first encoder chose, and ``secondary_baselines``: ``None`` until the
    first encoder's choices are made.
    """
    if language == plan.languages[0]:
        return base_variants(plan)
    first = choices(plan, results, world, plan.languages[0])
    if 'ranking' not in first:
        return None
    return ([f'{op}@{first["placement"][op]}' for op in
             first['ranking'][:plan.secondary_finalists]]
            + [b for b in plan.secondary_baselines if b in plan.baselines])


def _lr_of(decided: Dict[str, Any], name: str) -> float:
    """Return a variant's tuned rate: its own, or its operator's at the default placement."""
    if name in decided['lr']:
        return decided['lr'][name]
    return decided['lr'][f'{name.split("@")[0]}@{DEFAULT_PLACEMENT}']


def ready_jobs(plan: SweepPlan, results: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Return every job whose stage can start now (finished ones included)."""
    jobs = []
    for world, language in _groups(plan):
        def job(stage, name, lr, seed, points, split, stop_at=None):
            return make_job(plan, stage, world, language, name, lr, seed, points, split,
                            stop_at)

        for name in tuned_variants(plan, results, world, language) or []:
            jobs += [job('tune', name, lr, plan.tune_seed, plan.tune_points, 'val')
                     for lr in plan.lrs]
        decided = choices(plan, results, world, language)
        if 'lr' not in decided:
            continue
        first = language == plan.languages[0]
        for op in plan.operators if first else []:
            jobs += [job('place', f'{op}@{p}', decided['lr'][f'{op}@{DEFAULT_PLACEMENT}'],
                         plan.tune_seed, plan.tune_points, 'val')
                     for p in plan.placements if p != DEFAULT_PLACEMENT]
        if 'seeded' not in decided:
            continue
        for seed in range(plan.seeds):  # seed-major: partial results cover every variant
            jobs += [job('seeded', name, _lr_of(decided, name), seed, plan.points, 'test',
                         None if name in decided['full'] else plan.short_budget)
                     for name in decided['seeded']]
        if plan.anneal and decided.get('ranking'):
            name = f'{decided["ranking"][0]}@{decided["placement"][decided["ranking"][0]]}'
            jobs.append(job('anneal', name, _lr_of(decided, name), 0,
                            [p for p in plan.points if p <= plan.middle], 'test'))
    return jobs


def _secondary(plan: SweepPlan) -> int:
    """Count the variants a further encoder tunes and seeds, per world."""
    return plan.secondary_finalists + len([b for b in plan.secondary_baselines
                                           if b in plan.baselines])


def job_counts(plan: SweepPlan) -> Dict[str, int]:
    """Count the jobs of each stage of the whole sweep (known before any has run)."""
    worlds, more = len(plan.worlds), len(plan.languages) - 1
    others = len(plan.placements) - 1
    seeded = len(plan.operators) + plan.sweep_top * others + len(plan.baselines)
    return {'tune': worlds * (len(base_variants(plan)) + more * _secondary(plan))
            * len(plan.lrs),
            'place': worlds * len(plan.operators) * others,
            'seeded': worlds * (seeded + more * _secondary(plan)) * plan.seeds,
            'anneal': worlds if plan.anneal and plan.operators else 0}


def _full_seeded(plan: SweepPlan) -> int:
    """Count the seeded variants per group that train to the largest budget."""
    if not plan.finalists:
        return len(plan.operators) + plan.sweep_top * (len(plan.placements) - 1) + len(
            plan.baselines)
    return plan.finalists + len([b for b in plan.full_baselines if b in plan.baselines])


def _full_runs(plan: SweepPlan) -> int:
    """Count the seeded runs of the whole sweep that train to the largest budget."""
    per_world = _full_seeded(plan) + (len(plan.languages) - 1) * _secondary(plan)
    return per_world * plan.seeds * len(plan.worlds)


def stage_samples(plan: SweepPlan) -> Dict[str, int]:
    """Count the training samples of each stage of the whole sweep."""
    counts, full = job_counts(plan), _full_runs(plan)
    short = plan.short_budget or plan.points[-1]
    return {'tune': counts['tune'] * plan.tune_budget,
            'place': counts['place'] * plan.tune_budget,
            'seeded': full * plan.points[-1] + (counts['seeded'] - full) * short,
            'anneal': counts['anneal'] * plan.middle}


def stage_evaluations(plan: SweepPlan) -> Dict[str, int]:
    """Count the closed-loop evaluations (one curve point, floors apart) of each stage."""
    counts, full = job_counts(plan), _full_runs(plan)
    short = len([p for p in plan.points if p <= (plan.short_budget or plan.points[-1])])
    return {'tune': counts['tune'] * len(plan.tune_points),
            'place': counts['place'] * len(plan.tune_points),
            'seeded': 2 * (full * len(plan.points) + (counts['seeded'] - full) * short),
            'anneal': 2 * counts['anneal'] * len([p for p in plan.points if p <= plan.middle])}
