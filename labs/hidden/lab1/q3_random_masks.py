"""Lab 1, question 3: random per-tensor masks, seeded (hidden tests: properties, not one answer)."""
import torch
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.grading.properties import random_model

name = "q3 random masks"
SEEDS, AMOUNTS = (9301, 9302, 9303), (0.2, 0.5, 0.85)


def _masks(random_masks, model, amount, seed):
    assert callable(random_masks), "random_masks is not a function yet"
    masks = random_masks(model, amount, seed)
    assert isinstance(masks, dict), f"random_masks returned {type(masks).__name__}, not a dict of masks"
    assert sorted(masks) == sorted(ll.models.weight_names(model, "recurrent")), \
        "one mask per recurrent weight matrix, keyed by its name"
    return masks


@test_case(name="each tensor loses exactly its share", points=1)
def test_each_tensor_loses_exactly_its_share(random_masks):
    for seed, amount in zip(SEEDS, AMOUNTS):
        model = random_model(seed)
        masks = _masks(random_masks, model, amount, seed)
        for tensor, mask in masks.items():
            expected = int(round(amount * mask.numel()))
            assert int((mask == 0).sum()) == expected and set(mask.unique().tolist()) <= {0.0, 1.0}, \
                f"at amount {amount} the mask of {tensor} must be 0/1 with round(amount * numel) zeros"


@test_case(name="the seed decides the draw", points=1)
def test_the_seed_decides_the_draw(random_masks):
    model = random_model(SEEDS[0])
    first, again, other = (_masks(random_masks, model, 0.5, seed) for seed in (7, 7, 8))
    assert all(torch.equal(first[k], again[k]) for k in first), "the same seed must give the same masks"
    assert not all(torch.equal(first[k], other[k]) for k in first), "another seed must give other masks"


@test_case(name="the draw ignores the weights", points=1)
def test_the_draw_ignores_the_weights(random_masks):
    model = random_model(SEEDS[1])
    masks = _masks(random_masks, model, 0.5, 3)
    magnitude = ll.prune(model, "magnitude", 0.5, per_layer=True).masks
    assert not all(torch.equal(masks[k].float(), magnitude[k]) for k in masks), \
        "these are the magnitude masks: a random mask must not depend on |w|"
    before = {key: value.clone() for key, value in model.state_dict().items()}
    _masks(random_masks, model, 0.5, 3)
    after = model.state_dict()
    assert sorted(after) == sorted(before) and all(torch.equal(before[k], after[k]) for k in before), \
        "random_masks changed the model it was given: prune a copy (ll.models.clone)"
