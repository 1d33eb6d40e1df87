"""Lab 1, question 1: per-tensor magnitude masks over the recurrent scope (hidden tests)."""
import torch
from otter.test_files import test_case

import lattice_lab as ll
from lattice_lab.grading.properties import random_model

name = "q1 per-tensor masks"
SEEDS, AMOUNTS = (9101, 9102, 9103), (0.3, 0.55, 0.8)


def _masks(per_tensor_masks, model, amount):
    assert callable(per_tensor_masks), "per_tensor_masks is not a function yet"
    masks = per_tensor_masks(model, amount)
    assert isinstance(masks, dict), f"per_tensor_masks returned {type(masks).__name__}, not a dict of masks"
    return masks


@test_case(name="one mask per recurrent tensor", points=1)
def test_one_mask_per_recurrent_tensor(per_tensor_masks):
    for seed in SEEDS:
        model = random_model(seed)
        masks = _masks(per_tensor_masks, model, 0.5)
        assert sorted(masks) == sorted(ll.models.weight_names(model, "recurrent")), \
            "the masks' keys must be the recurrent scope's weight names (ll.models.weight_names(model, 'recurrent'))"


@test_case(name="each tensor loses its own smallest weights", points=2)
def test_each_tensor_loses_its_own_smallest_weights(per_tensor_masks):
    for seed, amount in zip(SEEDS, AMOUNTS):
        model = random_model(seed)
        masks = _masks(per_tensor_masks, model, amount)
        reference = ll.prune(model, "magnitude", amount, per_layer=True).masks
        for tensor, expected in reference.items():
            got = masks.get(tensor)
            assert isinstance(got, torch.Tensor) and got.shape == expected.shape, \
                f"the mask of {tensor} must be a tensor of the weight's shape"
            assert int((got == 0).sum()) == int((expected == 0).sum()), \
                f"at amount {amount} the mask of {tensor} removes the wrong number of weights"
            assert torch.equal(got.float(), expected), \
                f"at amount {amount} the mask of {tensor} does not remove that tensor's smallest |w|"


@test_case(name="the model is left as it was", points=1)
def test_the_model_is_left_as_it_was(per_tensor_masks):
    model = random_model(SEEDS[0])
    before = {key: value.clone() for key, value in model.state_dict().items()}
    _masks(per_tensor_masks, model, 0.5)
    after = model.state_dict()
    assert sorted(after) == sorted(before), "per_tensor_masks pruned the model it was given: prune a copy " \
                                            "(ll.models.clone)"
    assert all(torch.equal(before[key], after[key]) for key in before), "per_tensor_masks changed the model's weights"
