"""lattice_lab.devices: choosing, naming and moving to a device; train and checkpoints take them from here."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from lattice_lab import checkpoints, devices, train
from lattice_lab.devices import describe_device, model_device, select_device, to_device
from lattice_lab.validation import InvalidParameterError


def test_select_device_explicit_and_auto():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert select_device().type == expected


def test_describe_device_names_the_gpu_model():
    assert describe_device("cpu") == "cpu"
    assert describe_device(torch.device("cpu")) == "cpu"
    if torch.cuda.is_available():
        assert describe_device("cuda") == f"cuda ({torch.cuda.get_device_name(0)})"
    else:
        assert describe_device() == select_device().type


@pytest.mark.parametrize("device", ["tpu", "gpu", 3])
def test_select_device_rejects_unknown_names(device):
    with pytest.raises(ValueError, match="device"):
        select_device(device)


@pytest.mark.parametrize("device", ["tpu", 3, None, 1.5])
def test_select_device_names_the_allowed_devices_in_the_house_message(device):
    message = (f"The 'device' parameter of select_device must be one of 'auto', 'cpu', 'cuda', 'mps' "
               f"(or a torch.device). Got {device!r} instead.")
    with pytest.raises(InvalidParameterError) as error:
        select_device(device)
    assert str(error.value) == message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_select_device_rejects_unavailable_cuda():
    with pytest.raises(ValueError, match="not available"):
        select_device("cuda")


def test_train_and_checkpoints_use_the_devices_module_under_the_old_names():
    for name in ("DEVICES", "select_device", "describe_device", "model_device", "to_device"):
        assert getattr(train, name) is getattr(devices, name), name
    for name in ("select_device", "describe_device", "to_device"):
        assert getattr(checkpoints, name) is getattr(devices, name), name


def test_model_device_is_the_first_parameters_device_and_cpu_without_parameters():
    assert model_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert model_device(nn.ReLU()) == torch.device("cpu")


def test_to_device_recomputes_the_pruned_weight_on_the_target_device():
    layer = torch_prune.random_unstructured(nn.Linear(6, 4), "weight", amount=0.5)
    target = select_device("auto")
    moved = to_device(layer, target)
    assert moved is layer
    assert layer.weight.device.type == layer.weight_orig.device.type == layer.weight_mask.device.type == target.type
    assert torch.equal(layer.weight, layer.weight_orig * layer.weight_mask)
    assert to_device(layer, torch.device("cpu")).weight.device.type == "cpu"
