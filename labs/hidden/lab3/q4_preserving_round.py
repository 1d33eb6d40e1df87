"""Lab 3, question 4: one round of Ramanujan-preserving IMP, the stopping rule (hidden tests)."""
import torch
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.pruning.expander import _prune_round

name = "q4 stopping rule"
SHAPES = {"layers.0.weight_hh_l0": (48, 12), "layers.1.weight_hh_l0": (40, 20), "layers.2.weight_hh_l0": (16, 16)}


REMOVED = (0.3, 0.4, 0.75)  # already removed from each tensor: the last is near Δ_r's degree limit
SCALES = (1.0, 1.0, 0.2)  # the last tensor's weights are small: the global ranking reaches it first


def case(seed, removed=REMOVED):
    """Random weights and, per tensor, a magnitude mask with ``removed[i]`` of its weights gone."""
    generator = torch.Generator().manual_seed(seed)
    weights = {k: scale * torch.randn(shape, generator=generator) for (k, shape), scale in zip(SHAPES.items(), SCALES)}
    masks = {k: ll.pruning.base.masks_from_scores({k: w.abs()}, share, per_layer=True)[k]
             for (k, w), share in zip(weights.items(), removed)}
    return weights, masks


def reference(weights, masks, n_remove):
    """The library's round (global ranking, preserve=True): the new masks and the tensors it froze."""
    scores = {k: torch.where(masks[k] > 0, w.abs(), torch.full_like(w, -1.0)) for k, w in weights.items()}
    accepted, rejected = _prune_round(scores, masks, list(weights), n_remove, False, True)
    return {k: accepted[k][0] if k in accepted else masks[k] for k in weights}, set(rejected)


def _check(preserving_round, seed, removed, n_remove, what):
    """The learner's round against the library's on case(seed, removed)."""
    assert callable(preserving_round), "preserving_round is not a function yet"
    weights, masks = case(seed, removed)
    before = {k: m.clone() for k, m in masks.items()}
    got = preserving_round(weights, masks, n_remove)
    assert got is not None and len(tuple(got)) == 2, "preserving_round must return (new masks, frozen names)"
    new, frozen = got
    expected, expected_frozen = reference(weights, masks, n_remove)
    assert all(torch.equal(masks[k], before[k]) for k in masks), "the masks you were given must not change"
    assert set(frozen) == expected_frozen, f"{what}: the wrong tensors were frozen"
    assert isinstance(new, dict) and sorted(new) == sorted(expected) and \
        all(torch.equal(torch.as_tensor(new[k]).float(), expected[k]) for k in expected), \
        f"{what}: the masks after the round are not the smallest surviving |w| removed from the tensors still active"


@test_case(name="a round every tensor accepts", points=1)
def test_a_round_every_tensor_accepts(preserving_round):
    _check(preserving_round, 9911, (0.3, 0.4, 0.5), 40, "a small round")


@test_case(name="a tensor below the bound is frozen and the others take its share", points=2)
def test_a_tensor_is_frozen(preserving_round):
    for seed in (9912, 9913, 9914):
        weights, masks = case(seed)
        frozen = [n for n in range(20, 400, 20) if 0 < len(reference(weights, masks, n)[1]) < len(SHAPES)]
        assert frozen, "the hidden test found no round that freezes a tensor (a fault of the test, not yours)"
        _check(preserving_round, seed, REMOVED, frozen[0], f"a round of {frozen[0]} removals")
