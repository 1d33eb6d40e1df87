"""lattice_lab.analysis: the structure report against direct computations, JSON, text, CLI."""
import json

import numpy as np
import pytest
import torch

from lattice_lab import analysis, checkpoints, spectral
from lattice_lab.cli import main
from lattice_lab.graphs import combine_gates
from lattice_lab.models import build
from lattice_lab.posets import Poset


def _lstm(hidden=6, seed=0):
    torch.manual_seed(seed)
    return build({"kind": "lstm", "input_size": 3, "hidden_size": hidden, "num_classes": 2})


def test_poset_rows_match_a_direct_computation():
    model = _lstm()
    report = analysis.analyze(model, thresholds=(0.5, 0.9))
    strength = combine_gates(model.layers[0].weight_hh_l0.detach().numpy(), "lstm", "max").T
    for row, q in zip(report["posets"], (0.5, 0.9)):
        adjacency = strength >= np.quantile(strength, q)
        P = Poset.from_adjacency(adjacency)
        assert row["graph"] == "layer 0" and row["threshold"] == q
        assert row["units"] == row["neurons"] == 6 and row["edges"] == int(adjacency.sum() - np.trace(adjacency))
        assert row["components"] == P.size
        assert row["largest_component"] == max(len(c) for c in P.components)
        assert (row["height"], row["width"]) == (P.height(), P.width())
        assert row["meet_irreducibles"] == len(P.meet_irreducibles())
        assert row["join_irreducibles"] == len(P.join_irreducibles())


def test_ramanujan_rows_match_delta_r_or_say_why_not():
    small, large = _lstm(hidden=4), _lstm(hidden=32)
    row = analysis.analyze(small, thresholds=[0.9])["ramanujan"][0]
    assert row["delta_r"] is None and "average degree" in row["reason"]
    row = analysis.analyze(large, thresholds=[0.5])["ramanujan"][0]
    w = large.layers[0].weight_hh_l0.detach().abs().numpy()
    mask = (w >= np.quantile(w, 0.5)).astype(float)
    assert row["tensor"] == "layers.0.weight_hh_l0" and row["kept"] == pytest.approx(0.5)
    assert row["delta_r"] == pytest.approx(spectral.delta_r(mask)) and row["reason"] is None


def test_multilayer_feedback_report_has_every_layer_and_the_whole_graph():
    model = build({"kind": "feedback", "input_size": 2, "hidden_size": [5, 4], "num_classes": 2})
    report = analysis.analyze(model, thresholds=[0.75])
    assert [(r["graph"], r["layer"], r["neurons"]) for r in report["posets"]] == [
        ("layer 0", 0, 5), ("layer 1", 1, 4), ("all layers", None, 9)]
    assert [r["tensor"] for r in report["ramanujan"]] == [
        "layers.0.weight_hh_l0", "layers.0.weight_td_l0", "layers.1.weight_hh_l0"]
    assert report["spectral"] is None


def test_report_is_json_and_has_a_spectral_section_with_data():
    model = _lstm(hidden=5)
    with pytest.warns(UserWarning):  # few state vectors for a covariance: the spectral code warns
        report = analysis.analyze(model, thresholds=[0.8], data=torch.randn(4, 3, 3))
    again = json.loads(json.dumps(report))
    assert again["thresholds"] == [0.8] and again["model"]["kind"] == "lstm"
    (row,) = report["spectral"]
    assert row["units"] == 5 and len(row["dof"]) == len(analysis.DOF_RIDGES)
    dofs = list(row["dof"].values())
    assert all(a >= b for a, b in zip(dofs, dofs[1:])) and 0 < dofs[0] <= 5


def test_format_report_prints_every_table():
    model = _lstm(hidden=8)
    report = analysis.analyze(model, thresholds=[0.5, 0.95], data=torch.randn(60, 3, 3))
    text = analysis.format_report(report)
    assert "Dependency posets" in text and "Ramanujan" in text and "degrees of freedom" in text
    assert text.count("layer 0") == 2


@pytest.mark.parametrize("thresholds, error", [([], ValueError), ([1.0], ValueError), ([-0.1], ValueError),
                                                (["a"], TypeError), (0.5, TypeError), (["0.5"], ValueError)])
def test_bad_thresholds_are_refused(thresholds, error):
    with pytest.raises(error, match=r"The 'thresholds' parameter of analyze must be a nonempty list of quantiles in "
                                    r"\[0, 1\)"):
        analysis.analyze(_lstm(), thresholds=thresholds)


def test_cli_analyze_prints_json(tmp_path, capsys):
    model = _lstm(hidden=8)
    card = checkpoints.make_card(dataset="digits", layout="rows", n_train=1, n_test=1, epochs=0, seed=0,
                                 device="cpu", test_accuracy=None, command="test", config=model.config)
    path = checkpoints.save(tmp_path / "m.pt", model, card)
    assert main(["analyze", "--checkpoint", str(path), "--thresholds", "0.5", "0.9", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["threshold"] for r in report["posets"]] == [0.5, 0.9]
    assert main(["analyze", "--checkpoint", str(path), "--thresholds", "0.5"]) == 0
    assert "meet-irr" in capsys.readouterr().out
