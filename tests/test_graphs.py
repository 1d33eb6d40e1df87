"""lattice_lab.graphs: dependency digraph conventions, gate rules, layer graphs, unfolded graph."""
import networkx as nx
import numpy as np
import pytest
import torch

from lattice_lab import graphs, spectral
from lattice_lab.models import build
from lattice_lab.posets import Poset
from lattice_lab.surgery import apply_masks


def _set(model, name, value):
    module, attr = name.rsplit(".", 1)
    with torch.no_grad():
        getattr(model.get_submodule(module), attr).copy_(torch.as_tensor(value, dtype=torch.float32))


def test_rnn_adjacency_is_the_transposed_recurrent_weight():
    model = build({"kind": "rnn", "input_size": 1, "hidden_size": 3, "num_classes": 2})
    w = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [0.0, -2.0, 0.0]])  # 0 -> 1 (5), 1 -> 2 (-2)
    _set(model, "layers.0.weight_hh_l0", w)
    g = graphs.dependency_graph(model, threshold=0.0, threshold_kind="absolute")
    assert g.adjacency.tolist() == (w.T != 0).tolist()
    assert np.array_equal(g.strength, np.abs(w.T))
    assert g.adjacency[0, 1] and not g.adjacency[1, 0]


def test_lstm_gate_rules_combine_the_four_blocks():
    model = build({"kind": "lstm", "input_size": 1, "hidden_size": 2, "num_classes": 2})
    blocks = [np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0, -4.0], [2.0, 0.0]]),
              np.array([[0.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 0.0]])]
    _set(model, "layers.0.weight_hh_l0", np.concatenate(blocks))
    expected = {"max": [[0, 2], [4, 0]], "sum": [[0, 2], [7, 0]], "mean": [[0, 0.5], [1.75, 0]],
                "l2": [[0, 2], [np.sqrt(21), 0]], "forget": [[0, 2], [4, 0]], "output": [[0, 0], [0, 0]]}
    for rule, strength in expected.items():
        s, support, names = graphs.dependency_strength(model, gate_rule=rule)
        assert np.allclose(s, strength), rule
        assert support.all() and names == ["layers.0.weight_hh_l0"]


def test_gate_blocks_follow_pytorch_order_for_gru():
    w = np.arange(12.0).reshape(6, 2)
    blocks = graphs.gate_blocks(w, "gru")
    assert list(blocks) == ["reset", "update", "new"]
    assert blocks["update"].tolist() == [[4.0, 5.0], [6.0, 7.0]]
    with pytest.raises(ValueError, match="gate_rule"):
        graphs.combine_gates(w, "gru", "forget")
    with pytest.raises(ValueError, match="multiple of 3"):
        graphs.gate_blocks(np.ones((4, 2)), "gru")


def test_feedback_graph_has_lateral_bottom_up_and_top_down_blocks_at_layer_offsets():
    model = build({"kind": "feedback", "input_size": 2, "hidden_size": [2, 3], "num_classes": 2})
    rng = np.random.default_rng(0)
    w_hh0, w_hh1 = rng.normal(size=(2, 2)), rng.normal(size=(3, 3))
    w_ih1, w_td0 = rng.normal(size=(3, 2)), rng.normal(size=(2, 3))
    for name, value in [("layers.0.weight_hh_l0", w_hh0), ("layers.1.weight_hh_l0", w_hh1),
                        ("layers.1.weight_ih_l0", w_ih1), ("layers.0.weight_td_l0", w_td0)]:
        _set(model, name, value)
    s, support, names = graphs.dependency_strength(model)
    expected = np.block([[np.abs(w_hh0.T), np.abs(w_ih1.T)], [np.abs(w_td0.T), np.abs(w_hh1.T)]])
    assert np.allclose(s, expected, atol=1e-6)
    assert support.all()
    assert graphs.unit_offsets(model).tolist() == [0, 2, 5]
    assert graphs.neuron_offsets is graphs.unit_offsets  # the old name, kept for one release
    no_feedback, support, _ = graphs.dependency_strength(model, top_down=False)
    assert not no_feedback[2:, :2].any() and not support[2:, :2].any()
    g = graphs.dependency_graph(model, threshold=0.0)
    assert g.layer_of().tolist() == [0, 0, 1, 1, 1]


def test_stacked_lstm_graph_has_no_edges_from_upper_to_lower_layer():
    model = build({"kind": "lstm", "input_size": 2, "hidden_size": [3, 4], "num_classes": 2})
    s, support, names = graphs.dependency_strength(model)
    assert names == ["layers.0.weight_hh_l0", "layers.1.weight_ih_l0", "layers.1.weight_hh_l0"]
    assert support[:3, 3:].all() and not support[3:, :3].any()
    w_ih1 = model.layers[1].weight_ih_l0.detach().numpy()
    assert np.allclose(s[:3, 3:], graphs.combine_gates(w_ih1, "lstm", "max").T)


def test_bidirectional_layer_has_one_lateral_block_per_direction():
    model = build({"kind": "gru", "input_size": 2, "hidden_size": 3, "num_classes": 2, "bidirectional": True})
    s, support, _ = graphs.dependency_strength(model)
    assert s.shape == (6, 6)
    assert support[:3, :3].all() and support[3:, 3:].all() and not support[:3, 3:].any()
    w_rev = model.layers[0].weight_hh_l0_reverse.detach().numpy()
    assert np.allclose(s[3:, 3:], graphs.combine_gates(w_rev, "gru").T)


def test_pruned_weights_count_as_zero_strength():
    model = build({"kind": "rnn", "input_size": 1, "hidden_size": 4, "num_classes": 2})
    mask = torch.ones(4, 4)
    mask[1, 0] = 0
    pruned = apply_masks(model, {"layers.0.weight_hh_l0": mask})
    g = graphs.dependency_graph(pruned, threshold=0.0)
    assert not g.adjacency[0, 1] and g.strength[0, 1] == 0 and int(g.adjacency.sum()) == 15


def test_binary_threshold_as_quantile_and_as_absolute_value():
    s = np.arange(16.0).reshape(4, 4)
    assert int(graphs.binary_adjacency(s, 0.75).sum()) == 4  # quantile 0.75 of 0..15 is 11.25
    assert graphs.binary_adjacency(s, 14.0, "absolute").sum() == 2
    assert graphs.threshold_value(s, 0.5) == 7.5
    c = graphs.continuous_adjacency(s)
    assert c.max() == 1.0 and c[0, 1] == pytest.approx(1 / 15)


@pytest.mark.parametrize("call, message", [
    (lambda: graphs.binary_adjacency(np.ones((2, 3))), "square"),
    (lambda: graphs.binary_adjacency(np.array([[0.0, np.nan], [1.0, 0.0]])), "NaN or infinite"),
    (lambda: graphs.continuous_adjacency(np.array([[0.0, np.inf], [1.0, 0.0]])), "NaN or infinite"),
    (lambda: graphs.binary_adjacency(np.ones((2, 2)), -0.1),
     r"The 'threshold' parameter of binary_adjacency must be a float in \[0, 1\). Got -0.1 instead"),
    (lambda: graphs.binary_adjacency(np.ones((2, 2)), -1.0, "absolute"),
     "The 'threshold' parameter of binary_adjacency must be a float >= 0. Got -1.0 instead"),
    (lambda: graphs.binary_adjacency(np.ones((2, 2)), 1.0), r"\[0, 1\)"),
    (lambda: graphs.binary_adjacency(np.ones((2, 2)), 0.5, "percent"), "threshold_kind"),
    (lambda: graphs.binary_adjacency(np.zeros((0, 0))), "empty graph"),
    (lambda: graphs.continuous_adjacency(np.zeros((3, 3))), "empty graph"),
    (lambda: graphs.binary_adjacency(-np.ones((2, 2))), "nonnegative"),
    (lambda: graphs.to_networkx(np.ones((2, 3))), "square"),
])
def test_bad_input_gives_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_nan_weights_in_a_model_are_refused():
    model = build({"kind": "lstm", "input_size": 1, "hidden_size": 3, "num_classes": 2})
    with torch.no_grad():
        model.layers[0].weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        graphs.dependency_graph(model)
    with pytest.raises(ValueError, match="The 'adjacency' parameter of dependency_graph must be one of 'binary', "
                                         "'continuous'. Got 'weighted' instead"):
        graphs.dependency_graph(build({"kind": "rnn", "input_size": 1, "hidden_size": 3, "num_classes": 2}),
                                adjacency="weighted")


def test_cyclic_dependency_graph_is_refused_where_a_dag_is_required():
    model = build({"kind": "rnn", "input_size": 1, "hidden_size": 4, "num_classes": 2})
    G = graphs.to_networkx(graphs.dependency_graph(model, threshold=0.0).adjacency)
    with pytest.raises(ValueError, match="cyclic"):
        Poset.from_dag(G)
    assert Poset.from_dag(graphs.unfolded_graph(model, 2)).size == 2 * 1 + 3 * 4 + 2


def test_to_networkx_keeps_weights_and_layers():
    model = build({"kind": "feedback", "input_size": 2, "hidden_size": [2, 3], "num_classes": 2})
    g = graphs.dependency_graph(model, adjacency="continuous")
    G = graphs.to_networkx(g.adjacency, g.offsets)
    assert G.number_of_edges() == int((g.adjacency > 0).sum())
    assert G.nodes[3] == {"layer": 1, "unit": 1}
    u, v = next(iter(G.edges))
    assert G[u][v]["weight"] == pytest.approx(g.adjacency[u, v])


def test_layer_biadjacencies_of_lstm_have_four_gate_blocks():
    model = build({"kind": "lstm", "input_size": 3, "hidden_size": 5, "num_classes": 7})
    b = graphs.layer_biadjacencies(model, per_gate=True)
    assert b["W_ih"].shape == (20, 3) and b["W_hh"].shape == (20, 5) and b["step"].shape == (20, 8)
    assert b["readout"].shape == (7, 5)
    assert np.array_equal(b["step"], np.concatenate([b["W_ih"], b["W_hh"]], axis=1))
    for g, gate in enumerate(("input", "forget", "cell", "output")):
        assert np.array_equal(b[f"W_hh[{gate}]"], b["W_hh"][5 * g:5 * (g + 1)])
        assert b[f"W_ih[{gate}]"].shape == (5, 3)
    assert np.allclose(b["W_hh"], model.layers[0].weight_hh_l0.detach().numpy())


def test_layer_biadjacencies_of_gru_and_feedback():
    gru = build({"kind": "gru", "input_size": 3, "hidden_size": [4, 2], "num_classes": 2})
    b0 = graphs.layer_biadjacencies(gru, 0, per_gate=True)
    assert b0["W_hh"].shape == (12, 4) and "readout" not in b0
    assert sorted(k for k in b0 if k.startswith("W_hh[")) == ["W_hh[new]", "W_hh[reset]", "W_hh[update]"]
    assert graphs.layer_biadjacencies(gru, 1)["W_ih"].shape == (6, 4)
    fb = build({"kind": "feedback", "input_size": 3, "hidden_size": [4, 2], "num_classes": 2})
    assert graphs.layer_biadjacencies(fb, 0)["W_td"].shape == (4, 2)
    with pytest.raises(ValueError, match=r"The 'layer' parameter of layer_biadjacencies must be an int in \[0, 1\]"):
        graphs.layer_biadjacencies(fb, 2)


def test_bipartite_graph_of_a_mask():
    w = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, -3.0]])
    G = graphs.bipartite_graph(w)
    assert G.number_of_nodes() == 5 and G.number_of_edges() == 3
    assert nx.is_bipartite(G)


def _masked_lstm(hidden, inputs, classes, seed):
    model = build({"kind": "lstm", "input_size": inputs, "hidden_size": hidden, "num_classes": classes})
    generator = torch.Generator().manual_seed(seed)
    masks = {name: (torch.rand(shape, generator=generator) > 0.5).float()
             for name, shape in [("layers.0.weight_hh_l0", (4 * hidden, hidden)),
                                 ("layers.0.weight_ih_l0", (4 * hidden, inputs))]}
    return apply_masks(model, masks), masks


def test_unfolded_graph_counts_nodes_and_edges():
    hidden, inputs, classes, steps = 3, 2, 4, 5
    model, masks = _masked_lstm(hidden, inputs, classes, seed=1)
    G = graphs.unfolded_graph(model, steps)
    # an edge i -> j exists where any of the four gate blocks keeps the weight
    hh = masks["layers.0.weight_hh_l0"].view(4, hidden, hidden).amax(0)
    ih = masks["layers.0.weight_ih_l0"].view(4, hidden, inputs).amax(0)
    assert G.number_of_nodes() == steps * inputs + (steps + 1) * hidden + classes
    assert G.number_of_edges() == steps * int(hh.sum() + ih.sum()) + hidden * classes
    assert nx.is_directed_acyclic_graph(G)
    assert G.in_degree(("h", 0, 0, 0)) == 0 and G.out_degree(("y", 0)) == 0


def test_unfolded_graph_of_a_two_layer_model_links_layers_in_time():
    model = build({"kind": "feedback", "input_size": 1, "hidden_size": [2, 2], "num_classes": 2})
    G = graphs.unfolded_graph(model, 3, inputs=False, readout=False)
    assert G.number_of_nodes() == 4 * 4
    assert G.number_of_edges() == 3 * 16  # lateral 2x4 + bottom-up 4 + top-down 4 per step
    assert G.has_edge(("h", 0, 2, 1), ("h", 1, 2, 0))      # bottom-up: same step
    assert G.has_edge(("h", 1, 1, 0), ("h", 0, 2, 1))      # top-down: next step
    assert not G.has_edge(("h", 1, 2, 0), ("h", 0, 2, 1))


def test_unfolded_spectral_gap_matches_direct_eigenvalues():
    model, _ = _masked_lstm(hidden=3, inputs=2, classes=2, seed=2)
    G = graphs.unfolded_graph(model, 3)
    A = nx.to_numpy_array(nx.Graph(G.to_undirected()), weight=None)
    eigenvalues = np.sort(np.linalg.eigvalsh(A))[::-1]
    assert graphs.unfolded_spectral_gap(G) == pytest.approx(eigenvalues[0] - eigenvalues[1])
    assert graphs.unfolded_spectral_gap(G, "laplacian") == pytest.approx(
        spectral.algebraic_connectivity(nx.Graph(G.to_undirected())))


def test_unfolded_graph_refuses_bidirectional_models_and_bad_steps():
    bi = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2, "bidirectional": True})
    with pytest.raises(ValueError, match="unidirectional"):
        graphs.unfolded_graph(bi, 2)
    with pytest.raises(ValueError, match="steps"):
        graphs.unfolded_graph(build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2}), 0)


def test_flags_indices_and_models_are_checked_strictly():
    bi = build({"kind": "gru", "input_size": 2, "hidden_size": 3, "num_classes": 2, "bidirectional": True})
    rnn = build({"kind": "rnn", "input_size": 1, "hidden_size": 2, "num_classes": 2})
    cases = [
        (lambda: graphs.layer_biadjacencies(bi, per_gate="no"), "'per_gate' parameter of layer_biadjacencies must be "
                                                                 "True or False"),
        (lambda: graphs.layer_biadjacencies(bi, direction=True), r"'direction' parameter of layer_biadjacencies must be"
                                                                  r" an int in \[0, 1\]. Got True"),
        (lambda: graphs.layer_biadjacencies(bi, 0.0), "'layer' parameter of layer_biadjacencies must be an int"),
        (lambda: graphs.dependency_graph(bi, top_down=1), "'top_down' parameter of dependency_graph must be True"),
        (lambda: graphs.dependency_graph(bi, gate_rule="forget"), "'gate_rule' parameter of dependency_graph"),
        (lambda: graphs.combine_gates(np.ones((4, 1)), "transformer"), "'kind' parameter of combine_gates must be one "
                                                                       "of 'rnn', 'irnn', 'feedback', 'lstm', 'gru'"),
        (lambda: graphs.unfolded_graph(rnn, 2.0), "'steps' parameter of unfolded_graph must be an int >= 1"),
        (lambda: graphs.unfolded_graph(rnn, 2, readout="yes"), "'readout' parameter of unfolded_graph"),
        (lambda: graphs.dependency_graph(torch.nn.RNN(2, 3)), "'model' parameter of dependency_graph must be a "
                                                               "lattice_lab SequenceClassifier. Got 'RNN' instead"),
        (lambda: graphs.unfolded_spectral_gap(nx.Graph()), "'graph' parameter of unfolded_spectral_gap must be a "
                                                            r"networkx.DiGraph \(from unfolded_graph\)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    assert graphs.layer_biadjacencies(bi, direction=1)["W_hh"].shape == (9, 3)
