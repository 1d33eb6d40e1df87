"""lattice_lab.exercises: a right answer is accepted whatever numeric type it comes in, a wrong one never."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lattice_lab.exercises import is_number, same
from lattice_lab.validation import InvalidParameterError

QUARTER = [0.25, np.float64(0.25), np.float32(0.25), torch.tensor(0.25), torch.tensor(0.25, dtype=torch.float64),
           np.array(0.25), torch.tensor([1.0, 0.25])[1]]
SEVEN = [7, np.int64(7), np.int32(7), torch.tensor(7), np.array(7), 7.0, torch.tensor(7.0)]
PAIR = [[6, 24], (6, 24), np.array([6, 24]), torch.tensor([6, 24]), (np.int64(6), torch.tensor(24)), [6.0, 24.0]]


@pytest.mark.parametrize("answer", QUARTER, ids=lambda v: type(v).__name__)
def test_a_right_float_is_accepted_in_every_numeric_type(answer):
    assert same(answer, 1 / 4) and same(1 / 4, answer)
    assert is_number(answer)
    assert not same(answer, 0.26) and not same(answer, [0.25])


@pytest.mark.parametrize("answer", SEVEN, ids=lambda v: type(v).__name__)
def test_a_right_integer_is_accepted_in_every_numeric_type(answer):
    assert same(answer, 7) and same(answer, np.int64(7)) and same(answer, torch.tensor(7))
    assert not same(answer, 8) and not same(answer, 6.999)


@pytest.mark.parametrize("answer", PAIR, ids=lambda v: type(v).__name__)
def test_a_right_sequence_is_accepted_as_list_tuple_array_or_tensor(answer):
    assert same(answer, [6, 24]) and same(answer, (6, 24))
    assert not same(answer, [6, 25]) and not same(answer, [24, 6]) and not same(answer, [6, 24, 0])


def test_shapes_keys_strings_and_booleans_stay_strict():
    assert not same([1, 2], [[1, 2]]), "no broadcasting of a row against a matrix"
    assert not same(5, [5, 5]) and not same([5, 5], 5), "no broadcasting of a scalar"
    assert not same(True, 1) and not same(1, True) and same(True, np.bool_(True))
    assert not same({"a": 1}, {"a": 1, "b": 2}) and same({"a": (1, 2)}, {"a": np.array([1, 2])})
    assert same("mnist", "mnist") and not same("1", 1)
    assert not same(..., 3) and not same(None, 0) and not same([...], [1])
    assert same({4, 6}, {6, 4}) and not same([4, 6], {4, 6})


def test_ragged_lists_compare_entry_by_entry():
    assert same([[0, 1], [2]], ([0, 1], (np.int64(2),)))
    assert not same([[0, 1], [2]], [[0, 1], [3]]) and not same([[0, 1], [2]], [[0, 1]])


def test_tolerances_are_those_of_numpy_allclose():
    assert same(0.1 + 0.2, 0.3) and not same(0.1 + 0.2, 0.3, rel_tol=0)
    assert same(97.2, 97.204, abs_tol=0.01) and not same(97.2, 97.22, abs_tol=0.01)
    assert same(torch.tensor([0.5, 1.0]), [0.5 + 1e-12, 1.0])
    assert not same(float("nan"), float("nan")), "a nan is nobody's right answer"


def test_a_bad_tolerance_is_named():
    with pytest.raises(InvalidParameterError, match="'abs_tol' parameter of same"):
        same(1.0, 1.0, abs_tol=-1)


def test_is_number_refuses_what_is_not_one_number():
    assert not any(is_number(v) for v in (True, np.bool_(False), "3", [3], np.array([3]), None, ..., {3: 1}))
