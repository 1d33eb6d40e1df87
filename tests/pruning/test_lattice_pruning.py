"""The lattice pruning method: exact amounts, no mutation, critical units' connections kept first."""
import numpy as np
import pytest
import torch

from lattice_lab.graphs import weight_endpoints
from lattice_lab.models import build, get_weight, weight_names
from lattice_lab.posets import Poset, chain
from lattice_lab.pruning import REGISTRY, prune
from lattice_lab.pruning.lattice import lattice_structure, mobius_centrality

CONFIGS = {
    "rnn": {"kind": "rnn", "input_size": 3, "hidden_size": 12, "num_classes": 2},
    "lstm": {"kind": "lstm", "input_size": 3, "hidden_size": 12, "num_classes": 2},
    "gru": {"kind": "gru", "input_size": 3, "hidden_size": [12, 8], "num_classes": 2},
    "feedback": {"kind": "feedback", "input_size": 3, "hidden_size": [10, 6], "num_classes": 2},
}


def _model(kind, seed=0):
    torch.manual_seed(seed)
    return build(CONFIGS[kind])


def _zeros(model, names):
    return sum(int((get_weight(model, n) == 0).sum()) for n in names)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("scope", ["recurrent", "input", "all"])
def test_reaches_the_requested_amount_exactly(kind, scope):
    model = _model(kind)
    names = weight_names(model, scope)
    total = sum(get_weight(model, n).numel() for n in names)
    for amount in (0.1, 0.5, 0.75, 0.9):
        result = prune(model, "lattice", amount, scope=scope, threshold=0.9)
        assert _zeros(result.model, names) == round(amount * total)
        assert result.sparsity == pytest.approx(round(amount * total) / total)
    out = result.model(torch.randn(2, 5, 3))
    assert out.shape == (2, 2) and torch.isfinite(out).all()


@pytest.mark.parametrize("options", [{"adjacency": "continuous"}, {"tau": 0.5}, {"centrality": "degree"},
                                     {"critical_bonus": 1.0, "threshold": 0.97},
                                     {"gate_rule": "forget"}, {"centrality": "mobius-up", "critical_size": 100}])
def test_every_variant_reaches_the_exact_amount(options):
    model = _model("lstm", seed=3)
    names = weight_names(model, "recurrent")
    result = prune(model, "lattice", 0.6, **options)
    assert _zeros(result.model, names) == round(0.6 * 4 * 12 * 12)


def test_amount_is_exact_on_an_already_pruned_model():
    model = prune(_model("lstm"), "magnitude", 0.5).model
    result = prune(model, "lattice", 0.7)
    assert _zeros(result.model, ["layers.0.weight_hh_l0"]) == round(0.7 * 576)
    assert bool(((get_weight(result.model, "layers.0.weight_hh_l0") != 0)
                 <= (get_weight(model, "layers.0.weight_hh_l0") != 0)).all())


@pytest.mark.parametrize("kind", ["lstm", "feedback"])
def test_never_mutates_its_input(kind):
    model = _model(kind)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    prune(model, "lattice", 0.8, scope="all", adjacency="continuous", tau=0.3)
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def _touches_critical(model, names, critical):
    """Per tensor: boolean array, True where the weight entry touches a critical unit."""
    crit = np.zeros(int(1e4), dtype=bool)
    crit[critical] = True
    out = {}
    for name in names:
        rows, cols = weight_endpoints(model, name)
        touch = crit[rows][:, None]
        if cols is not None:
            touch = touch | crit[cols][None, :]
        out[name] = np.broadcast_to(touch, get_weight(model, name).shape)
    return out


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_critical_connections_are_removed_only_after_all_others(kind):
    model = _model(kind, seed=1)
    names = weight_names(model, "all")
    for threshold in (0.97, 0.93, 0.9, 0.85, 0.8):  # the first that leaves both kinds of connection
        info = prune(model, "lattice", 0.1, scope="all", threshold=threshold).info
        touch = _touches_critical(model, names, info["critical_units"])
        non_critical = sum(int((~t).sum()) for t in touch.values())
        total = sum(t.size for t in touch.values())
        if 0 < non_critical < total:
            break
    assert 0 < non_critical < total, "the test needs critical and non-critical connections"
    for amount in (0.5 * non_critical / total, (non_critical + 0.5 * (total - non_critical)) / total):
        result = prune(model, "lattice", amount, scope="all", threshold=threshold)
        removed = {n: (get_weight(result.model, n) == 0).numpy() for n in names}
        removed_critical = sum(int((removed[n] & touch[n]).sum()) for n in names)
        kept_non_critical = sum(int((~removed[n] & ~touch[n]).sum()) for n in names)
        # the invariant: a critical connection is removed only when no non-critical one is left
        assert removed_critical == 0 or kept_non_critical == 0
        assert (removed_critical == 0) == (amount * total <= non_critical)


def _hand_made_rnn():
    """W_hh with strong edges 0 -> 1 and 0 -> 2 and strong self-loops on 0 and 3; weak elsewhere.

    The poset (threshold 0.5): 0 < 1, 0 < 2, 3 alone. Meet-irreducibles of its completion:
    1 and 2 (maximal) and 3 (maximal, not the top); 0 is the meet of 1 and 2. Critical: 1, 2, 3,
    so the only connection touching no critical unit is the self-loop 0 -> 0, the largest weight.
    """
    model = build({"kind": "rnn", "input_size": 1, "hidden_size": 4, "num_classes": 2})
    w = np.full((4, 4), 0.01) + 0.001 * np.arange(16).reshape(4, 4)
    w[1, 0] = w[2, 0] = 1.0
    w[0, 0], w[3, 3] = 5.0, 4.0
    with torch.no_grad():
        model.layers[0].weight_hh_l0.copy_(torch.tensor(w, dtype=torch.float32))
    return model, w


def test_hand_made_poset_has_the_expected_critical_units():
    model, w = _hand_made_rnn()
    structure = lattice_structure(model, threshold=0.5, threshold_kind="absolute")
    P = Poset.from_adjacency((w.T >= 0.5) & ~np.eye(4, dtype=bool))
    assert structure["meet_irreducibles"].tolist() == P.meet_irreducibles().tolist()
    assert np.flatnonzero(structure["critical"]).tolist() == [1, 2, 3]


def test_critical_units_win_over_magnitude():
    model, w = _hand_made_rnn()
    result = prune(model, "lattice", 1 / 16, threshold=0.5, threshold_kind="absolute")
    mask = result.masks["layers.0.weight_hh_l0"]
    assert mask[0, 0] == 0 and int(mask.sum()) == 15  # the largest weight goes: it touches no critical unit
    magnitude = prune(model, "magnitude", 1 / 16).masks["layers.0.weight_hh_l0"]
    assert magnitude[0, 0] == 1 and magnitude[0, 1] == 0
    assert result.info["critical_units"] == [1, 2, 3]
    assert result.info["poset_size"] == 4 and result.info["connected_components"] == 2


def test_without_structure_it_is_exactly_global_magnitude_pruning():
    model = _model("gru")
    plain = prune(model, "lattice", 0.7, centrality="none", critical_size=0)
    magnitude = prune(model, "magnitude", 0.7)
    for name in magnitude.masks:
        assert torch.equal(plain.masks[name], magnitude.masks[name])


def test_tau_removes_weak_non_critical_connections_first():
    model = _model("lstm", seed=2)
    name = "layers.0.weight_hh_l0"
    structure = lattice_structure(model, threshold=0.9)
    w = get_weight(model, name).detach().abs().numpy()
    touch = _touches_critical(model, [name], np.flatnonzero(structure["critical"]))[name]
    candidates = (w < 0.4 * w.max()) & ~touch
    assert 0 < candidates.sum() < (~touch).sum()
    for amount, inside in ((0.5 * candidates.sum() / w.size, True), ((candidates.sum() + 20) / w.size, False)):
        removed = (prune(model, "lattice", amount, tau=0.4, threshold=0.9).masks[name] == 0).numpy()
        assert (removed <= candidates).all() if inside else (candidates <= removed).all()


def test_finite_critical_bonus_multiplies_the_score_of_critical_connections():
    model = _model("rnn", seed=5)
    name = "layers.0.weight_hh_l0"
    result = prune(model, "lattice", 0.5, threshold=0.95, centrality="none", critical_bonus=2.0)
    w = get_weight(model, name).detach().abs().numpy()
    touch = _touches_critical(model, [name], result.info["critical_units"])[name]
    assert touch.any() and (~touch).any()
    score = np.where(touch, 3.0, 1.0) * w
    removed = (result.masks[name] == 0).numpy()
    assert score[removed].max() <= score[~removed].min()
    assert result.info["critical_bonus"] == 2.0


def test_centrality_scales_the_ranking():
    model = _model("rnn", seed=4)
    result = prune(model, "lattice", 0.5, threshold=0.95, critical_size=0)
    cent = np.array(result.info["centrality"])
    assert cent.mean() == pytest.approx(1.0) and cent.std() > 0
    w = get_weight(model, "layers.0.weight_hh_l0").detach().abs().numpy()
    score = w * (cent[:, None] + cent[None, :]) / 2
    removed = (result.masks["layers.0.weight_hh_l0"] == 0).numpy()
    assert score[removed].max() <= score[~removed].min()


def test_mobius_centrality_of_a_chain():
    values, exact = mobius_centrality(chain(4))
    assert exact and values.tolist() == [2, 3, 3, 2]  # |μ| is 1 on the diagonal and the covers


def test_info_carries_the_structure():
    result = prune(_model("feedback"), "lattice", 0.5, threshold=0.95)
    info = result.info
    for key in ("poset_size", "connected_components", "largest_scc", "meet_irreducibles", "critical_units",
                "centrality", "threshold_value", "edges", "units"):
        assert key in info, key
    assert info["units"] == 16 and len(info["centrality"]) == 16
    assert 1 <= info["poset_size"] <= 16 and info["largest_scc"] <= 16
    assert set(info["meet_irreducibles"]) <= set(range(info["poset_size"]))
    assert "lattice" in REGISTRY and REGISTRY["lattice"].options["adjacency"] == "binary"


def test_dense_low_threshold_collapses_to_one_component():
    info = prune(_model("lstm"), "lattice", 0.5, threshold=0.2).info
    assert info["poset_size"] == 1 and info["largest_scc"] == 12
    assert info["critical_units"] == [] and set(info["centrality"]) == {1.0}


@pytest.mark.parametrize("options, message", [
    ({"adjacency": "weighted"}, "The 'adjacency' parameter of lattice must be one of"),
    ({"centrality": "pagerank"}, "The 'centrality' parameter of lattice must be one of"),
    ({"threshold": -0.5}, "threshold"),
    ({"threshold": 1.5}, r"\[0, 1\)"),
    ({"tau": -1.0}, "The 'tau' parameter of lattice must be"),
    ({"critical_size": -1}, "critical_size"),
    ({"critical_bonus": -1.0}, "critical_bonus"),
    ({"gate_rule": "reset"}, "gate_rule"),
])
def test_bad_options_give_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        prune(_model("lstm"), "lattice", 0.5, **options)


def test_nan_weights_are_refused():
    model = _model("rnn")
    with torch.no_grad():
        model.layers[0].weight_hh_l0[1, 2] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        prune(model, "lattice", 0.5)
