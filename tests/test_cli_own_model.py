"""The command line on a model of the user's own (issue 25): module.py:factory plus weights, a
TorchScript file, and a state dict saved on CUDA that loads on a machine without one."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
from torch import serialization

from lattice_lab.cli import main
from lattice_lab.recurrent.loading import load_model

SOURCE = textwrap.dedent('''
    from torch import nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 8, batch_first=True, bidirectional=True)
            self.norm = nn.LayerNorm(16)
            self.head = nn.Linear(16, 2)

        def forward(self, x):
            return self.head(self.norm(self.gru(x)[0].mean(dim=1)))

    def make():
        return Tagger()
''')


@pytest.fixture
def files(tmp_path):
    (tmp_path / "mine.py").write_text(SOURCE)
    model = load_model(f"{tmp_path / 'mine.py'}:make")
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(20, 5, 3, generator=generator)
    torch.save((inputs, torch.randint(0, 2, (20,), generator=generator)), tmp_path / "data.pt")
    return tmp_path, model


def _run(capsys, *argv):
    assert main([*map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_prune_a_factory_model_with_its_weights_and_export_it_as_torchscript(files, capsys):
    folder, model = files
    own = ["--model", f"{folder / 'mine.py'}:make", "--weights", folder / "weights.pt", "--data", folder / "data.pt"]
    dense = _run(capsys, "evaluate", *own)
    pruned = _run(capsys, "prune", *own, "--method", "magnitude-units", "--amount", "0.5", "--out",
                  folder / "pruned.pt")
    assert pruned["hidden_sizes"] == [4] and 0.0 <= dense["accuracy"] <= 1.0
    scripted = _run(capsys, "evaluate", "--model", folder / "pruned.pt", "--data", folder / "data.pt")
    assert scripted["accuracy"] == pytest.approx(pruned["accuracy"])
    report = _run(capsys, "analyze", *own, "--thresholds", "0.9")
    assert report["model"] == {"kind": "Tagger", "hidden_size": [8]}


def test_a_torchscript_file_cannot_be_pruned_and_bad_specs_are_one_line(files, capsys):
    folder, model = files
    torch.jit.save(torch.jit.trace(model, torch.zeros(1, 5, 3)), str(folder / "dense.ts"))
    assert main(["prune", "--model", str(folder / "dense.ts"), "--data", str(folder / "data.pt"), "--method",
                 "magnitude", "--amount", "0.5"]) == 2
    assert "is a TorchScript file: its modules are compiled" in capsys.readouterr().err
    assert main(["evaluate", "--model", "mine.py", "--data", str(folder / "data.pt")]) == 2
    assert "must be 'module.py:factory'" in capsys.readouterr().err
    assert main(["evaluate", "--model", f"{folder / 'mine.py'}:make"]) == 2
    assert "--model needs --data" in capsys.readouterr().err
    assert main(["evaluate", "--model", f"{folder / 'mine.py'}:nothing", "--data", str(folder / "data.pt")]) == 2
    assert "has no function 'nothing'" in capsys.readouterr().err


def test_weights_saved_on_cuda_load_on_a_machine_without_one(files, monkeypatch, capsys):
    """The file's storages carry torch.serialization's location tag 'cuda:0', exactly as torch.save
    writes them on a GPU; only the tag is forced here (this machine has no GPU to save from)."""
    folder, model = files
    with monkeypatch.context() as patch:
        patch.setattr(serialization, "location_tag", lambda storage: "cuda:0")
        torch.save(model.state_dict(), folder / "cuda.pt")
    if not torch.cuda.is_available():  # what a plain torch.load does with such a file here
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(folder / "cuda.pt", weights_only=True)
    loaded = load_model(f"{folder / 'mine.py'}:make", folder / "cuda.pt")
    assert all(t.device.type == "cpu" for t in loaded.state_dict().values())
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
