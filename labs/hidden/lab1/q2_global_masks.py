"""Lab 1, question 2: global magnitude masks, one ranking over the recurrent scope (hidden tests)."""
import torch
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.grading.properties import random_model

name = "q2 global masks"
SEEDS, AMOUNTS = (9201, 9202, 9203, 9204), (0.25, 0.5, 0.7, 0.9)


@test_case(name="one ranking over the whole scope", points=2)
def test_one_ranking_over_the_whole_scope(global_masks):
    assert callable(global_masks), "global_masks is not a function yet"
    for seed, amount in zip(SEEDS, AMOUNTS):
        model = random_model(seed)
        masks = global_masks(model, amount)
        assert isinstance(masks, dict), f"global_masks returned {type(masks).__name__}, not a dict of masks"
        reference = ll.prune(model, "magnitude", amount).masks
        assert sorted(masks) == sorted(reference), "one mask per recurrent weight matrix, keyed by its name"
        removed = sum(int((m == 0).sum()) for m in masks.values())
        assert removed == sum(int((m == 0).sum()) for m in reference.values()), \
            f"at amount {amount} the masks remove the wrong number of weights in total"
        assert all(torch.equal(masks[k].float(), reference[k]) for k in reference), \
            f"at amount {amount} the masks do not remove the scope's smallest |w| (one ranking over all tensors)"


@test_case(name="the model is left as it was", points=1)
def test_the_model_is_left_as_it_was(global_masks):
    assert callable(global_masks), "global_masks is not a function yet"
    model = random_model(SEEDS[0])
    before = {key: value.clone() for key, value in model.state_dict().items()}
    masks = global_masks(model, 0.5)
    assert isinstance(masks, dict), f"global_masks returned {type(masks).__name__}, not a dict of masks"
    after = model.state_dict()
    assert sorted(after) == sorted(before) and all(torch.equal(before[k], after[k]) for k in before), \
        "global_masks changed the model it was given: prune a copy (ll.models.clone)"
