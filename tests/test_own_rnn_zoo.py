"""A zoo of recurrent models written the way users write them, each through the recurrent view,
exact unit removal and every registered method (issue 25).

Every model here is built only from ``torch.nn`` modules; none is changed to fit lattice_lab.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lattice_lab.pruning import REGISTRY, prune
from lattice_lab.recurrent import UnsupportedModelError, remove_units, unit_masks, view_of
from lattice_lab.models import get_weight
from lattice_lab.pruning import foreign_methods as supported
from lattice_lab.recurrent.removal import masked_reference
from lattice_lab.surgery import apply_masks

FEATURES, STEPS, CLASSES, VOCAB = 4, 6, 3, 11


class TwoLayerLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 8, num_layers=2, dropout=0.1, batch_first=True)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class BiGRUMeanPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, 7, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(14, CLASSES)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.classifier(out.mean(dim=1))


class LSTMLayerNorm(nn.Module):
    """Torch-Pruning #276: an LSTM followed by LayerNorm and a Linear."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 9, batch_first=True)
        self.norm = nn.LayerNorm(9)
        self.fc = nn.Linear(9, CLASSES)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(self.norm(out[:, -1]))


class ReluRNNNoBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(FEATURES, 6, nonlinearity="relu", bias=False, batch_first=True)
        self.out = nn.Linear(6, CLASSES)

    def forward(self, x):
        return self.out(self.rnn(x)[0][:, -1])


class TwoGRUs(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.GRU(FEATURES, 10, batch_first=True)
        self.second = nn.GRU(10, 5, batch_first=True)
        self.head = nn.Linear(5, CLASSES)

    def forward(self, x):
        x, _ = self.first(x)
        x = torch.relu(x)
        _, h = self.second(x)
        return self.head(h[-1])


class TokenGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 5)
        self.gru = nn.GRU(5, 8, batch_first=True)
        self.head = nn.Linear(8, CLASSES)

    def forward(self, tokens):
        out, _ = self.gru(self.embed(tokens))
        return self.head(out[:, -1])


class EveryStepTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 6, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.tag = nn.Linear(6, CLASSES)

    def forward(self, x):
        return self.tag(self.drop(self.lstm(x)[0]))


class MaxPoolGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, 8, batch_first=True)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out.max(dim=1).values)


class TimeMajorLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 7)  # batch_first=False: (steps, batch, features)
        self.fc = nn.Linear(7, CLASSES)

    def forward(self, x):
        out, _ = self.lstm(x.transpose(0, 1))
        return self.fc(out[-1])


class BiLSTMFinalStates(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(10, CLASSES)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(torch.cat([h[-2], h[-1]], dim=1))


class ShapeCheckingGRU(nn.Module):
    """Does not trace with torch.fx (control flow on the input): found with forward hooks."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, 6, batch_first=True)
        self.fc = nn.Linear(6, CLASSES)

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(0)
        return self.fc(self.gru(x)[0][:, -1])


class LastStepAndInputMean(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(FEATURES, 6, batch_first=True)
        self.fc = nn.Linear(6 + FEATURES, CLASSES)

    def forward(self, x):
        return self.fc(torch.cat([self.rnn(x)[0][:, -1], x.mean(dim=1)], dim=-1))


ZOO = [TwoLayerLSTM, BiGRUMeanPool, LSTMLayerNorm, ReluRNNNoBias, TwoGRUs, TokenGRU, EveryStepTagger, MaxPoolGRU,
       TimeMajorLSTM, BiLSTMFinalStates, ShapeCheckingGRU, LastStepAndInputMean]


def _inputs(cls, n: int = 12, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    if cls is TokenGRU:
        return torch.randint(0, VOCAB, (n, STEPS), generator=generator)
    return torch.randn(n, STEPS, FEATURES, generator=generator)


def _model(cls, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return cls().eval()


def _data(cls):
    inputs = _inputs(cls, 24, seed=1)
    shape = (24, STEPS) if cls is EveryStepTagger else (24,)
    return inputs, torch.randint(0, CLASSES, shape, generator=torch.Generator().manual_seed(2))


def _random_keep(view, seed: int = 0):
    """Per layer about half the units, at random; the layers of one module keep as many."""
    generator = torch.Generator().manual_seed(seed)
    keep = []
    for layer in view.layers:
        count = max(1, layer.hidden_size // 2)
        keep.append(torch.randperm(layer.hidden_size, generator=generator)[:count].sort().values)
    return keep


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_zoo_has_at_least_ten_models_built_only_from_torch_nn():
    assert len(ZOO) >= 10
    for cls in ZOO:
        assert all(type(m).__module__.startswith("torch.nn") for m in cls().modules() if m is not None
                   and not isinstance(m, tuple(ZOO)))


@pytest.mark.parametrize("cls", ZOO, ids=lambda c: c.__name__)
def test_remove_units_matches_masked_model_on_every_zoo_model(cls):
    model, x = _model(cls), _inputs(cls)
    before = _state(model)
    view = view_of(model, x[:2])
    keep = _random_keep(view)
    small = remove_units(model, view, keep)
    with torch.no_grad():
        removed, reference = small(x), masked_reference(model, view, keep)(x)
    assert torch.allclose(removed, reference, atol=1e-5, rtol=1e-4)
    assert type(small) is cls and inspect.signature(small.forward) == inspect.signature(model.forward)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is unchanged
    for k, layer in enumerate(view.layers):
        assert small.get_submodule(layer.module).hidden_size == len(keep[k])


def test_layernorm_removal_differs_from_plain_masking_and_matches_the_reference_computation():
    model, x = _model(LSTMLayerNorm), _inputs(LSTMLayerNorm)
    view = view_of(model, x[:2])
    keep = [torch.tensor([0, 2, 3, 7])]
    with torch.no_grad():
        removed = remove_units(model, view, keep)(x)
        masked = apply_masks(model, unit_masks(model, view, keep))(x)
        h = apply_masks(model, unit_masks(model, view, keep)).lstm(x)[0][:, -1][:, keep[0]]
        normed = nn.functional.layer_norm(h, (4,), model.norm.weight[keep[0]], model.norm.bias[keep[0]], model.norm.eps)
        by_hand = normed @ model.fc.weight[:, keep[0]].T + model.fc.bias
    assert not torch.allclose(removed, masked, atol=1e-4)  # LayerNorm's statistics change with removal
    assert torch.allclose(removed, by_hand, atol=1e-5)


def test_views_find_the_layers_and_consumers_users_write():
    x = _inputs(TwoGRUs)[:2]
    view = view_of(_model(TwoGRUs), x)
    assert [layer.name for layer in view.layers] == ["first.l0", "second.l0"]
    assert [(c.module, c.kind) for c in view.consumers] == [("second", "recurrent"), ("head", "linear")]
    view = view_of(_model(BiLSTMFinalStates), x)
    assert [(b.layer, b.direction) for b in view.consumers[0].layout] == [(1, 0), (1, 1)]
    assert view_of(_model(ShapeCheckingGRU), x).traced == "hooks"
    assert view_of(_model(LSTMLayerNorm), x).traced == "fx"


class Projected(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 8, proj_size=3, batch_first=True)
        self.fc = nn.Linear(3, CLASSES)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1])


class SigmoidOfStates(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, 8, batch_first=True)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        return self.fc(torch.sigmoid(self.gru(x)[0][:, -1]))


class TiedLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8)
        self.lstm = nn.LSTM(8, 8, batch_first=True)
        self.decoder = nn.Linear(8, VOCAB)
        self.decoder.weight = self.embed.weight

    def forward(self, tokens):
        return self.decoder(self.lstm(self.embed(tokens))[0])


@pytest.mark.parametrize("cls, sentence", [
    (Projected, "module 'lstm' (nn.LSTM) has proj_size=3: its hidden state is projected"),
    (SigmoidOfStates, "module 'gru' (nn.GRU) feeds its hidden states into sigmoid"),
    (TiedLanguageModel, "module 'decoder' (nn.Linear) shares a weight with 'embed' (nn.Embedding)"),
])
def test_unsupported_models_are_refused_with_their_sentence(cls, sentence):
    x = torch.randint(0, VOCAB, (2, STEPS)) if cls is TiedLanguageModel else _inputs(cls)[:2]
    with pytest.raises(UnsupportedModelError, match=sentence.replace("(", r"\(").replace(")", r"\)")):
        view_of(cls(), x)
    with pytest.raises(UnsupportedModelError):
        prune(cls(), "random-units", 0.5, example=x)


TRAINS = ("imp", "ramanujan-imp", "expander", "gradual-magnitude", "jacobian")  # these change the kept weights too


@pytest.mark.parametrize("cls", ZOO, ids=lambda c: c.__name__)
@pytest.mark.parametrize("method", supported())
def test_every_method_prunes_every_zoo_model_exactly(cls, method):
    model, (inputs, targets) = _model(cls), _data(cls)
    before = _state(model)
    options = {"epochs": 1} if method in ("gradual-magnitude", "jacobian") else {}
    view = view_of(model, inputs[:2])
    if method == "jacobian" and (len(view.layers) > 1 or view.layers[0].directions > 1):
        with pytest.raises(ValueError, match="must be a model with one single-layer, one-directional nn.RNN"):
            prune(model, method, 0.5, (inputs, targets), seed=3, **options)
        return
    result = prune(model, method, 0.5, (inputs, targets), seed=3, **options)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is unchanged
    assert type(result.model) is cls and 0.0 <= result.info["score"] <= 1.0
    names = view.scope_names("recurrent")
    if REGISTRY[method].level == "weight":
        assert set(result.masks) == set(names)
        for name in names:  # masks sit on the user's own parameter names, as torch.nn.utils.prune puts them
            path, _, attr = name.rpartition(".")
            assert hasattr(result.model.get_submodule(path), attr + "_mask")
        zeros = sum(int((get_weight(result.model, n) == 0).sum()) for n in names)
        assert result.sparsity == pytest.approx(zeros / sum(get_weight(model, n).numel() for n in names))
        if method == "ramanujan-imp":  # a layer stops being pruned when its Ramanujan gap would turn negative
            assert 0.0 < result.sparsity <= 0.5 + 1 / 64
        else:
            assert abs(result.sparsity - 0.5) <= (0.1 if method == "expander" else 1 / 64)
        if method not in TRAINS:  # removed == masked: the pruned model is the dense one with W * mask
            reference = apply_masks(model, result.masks)
            with torch.no_grad():
                assert torch.allclose(result.model(inputs), reference(inputs), atol=1e-6)
    else:
        if method == "spectral" and any(result.info["reconstructed"]):  # readers hold W Â_J, not W
            _assert_spectral_reconstruction(model, view, inputs, result)
        else:
            with torch.no_grad():
                reference = masked_reference(model, view, result.kept_units)(inputs)
                assert torch.allclose(result.model(inputs), reference, atol=1e-5, rtol=1e-4)
        dense = sum(layer.hidden_size ** 2 * layer.directions for layer in view.layers)
        remaining = sum(len(kept_k) ** 2 * layer.directions for kept_k, layer in zip(result.kept_units, view.layers))
        assert result.sparsity == pytest.approx(1 - remaining / dense)


@pytest.mark.parametrize("form", ["pair", "dataset", "loader"])
def test_data_may_be_a_pair_a_dataset_or_a_loader_and_a_user_score_is_used(form):
    model, (inputs, targets) = _model(BiGRUMeanPool), _data(BiGRUMeanPool)
    data = {"pair": (inputs, targets), "dataset": TensorDataset(inputs, targets),
            "loader": DataLoader(TensorDataset(inputs, targets), batch_size=5)}[form]
    result = prune(model, "magnitude-units", 0.5, data)
    with torch.no_grad():
        expected = float((result.model(inputs).argmax(-1) == targets).float().mean())
    assert result.info["score"] == pytest.approx(expected)
    loss = prune(model, "magnitude-units", 0.5, data,
                 score=lambda m, d: -float(nn.functional.cross_entropy(m(inputs), targets)))
    with torch.no_grad():
        assert loss.info["score"] == pytest.approx(-float(nn.functional.cross_entropy(loss.model(inputs), targets)))


def test_every_registered_method_runs_on_a_foreign_model():
    assert set(supported()) == set(REGISTRY)


def _top_states(model, view, inputs):
    """Per view layer that is the top layer of its module: its (D, N, H) states at every step, read by a
    forward hook on the user's module (independently of lattice_lab's collection)."""
    seen = {}

    def hook(module, args, out, name):
        seen[name] = out[0].detach().double()

    handles = [model.get_submodule(m).register_forward_hook(
        lambda mod, args, out, m=m: hook(mod, args, out, m)) for m in view.modules()]
    with torch.no_grad():
        model(inputs)
    for handle in handles:
        handle.remove()
    states = {}
    for m in view.modules():
        k = view.layers_of(m)[-1]
        layer = view.layers[k]
        states[k] = seen[m].reshape(-1, layer.directions, layer.hidden_size).permute(1, 0, 2).numpy()
    return states


def _assert_spectral_reconstruction(model, view, inputs, result):
    """Every reader of a reconstructed layer holds W[rows kept][:, block] Â_J, Â_J the library's
    reconstruction on the layer's hidden states (a top layer's read here by a hook; a layer inside a
    multi-layer module by lattice_lab's collection, checked against the hook on the top layer)."""
    from lattice_lab.pruning.spectral_foreign import _readers, _span, layer_states
    from lattice_lab.recurrent.removal import index_plan
    from lattice_lab.recurrent.data import as_dataset
    from lattice_lab.ridge import reconstruction_matrix

    top = _top_states(model, view, inputs)
    data = as_dataset((inputs, torch.zeros(len(inputs))))
    keep = [torch.as_tensor(k) for k in result.kept_units]
    plan = index_plan(view, keep)
    for k, done in enumerate(result.info["reconstructed"]):
        if not done:
            continue
        states = top.get(k)
        if states is None:
            states = layer_states(model, view, data, k)
        else:
            assert np.allclose(states, layer_states(model, view, data, k), atol=1e-6)
        for d in range(view.layers[k].directions):
            cov = states[d].T @ states[d] / states.shape[1]
            a = torch.from_numpy(reconstruction_matrix(cov, keep[k].numpy(), result.info["lam"][k]))
            for name, layout in _readers(view).items():
                span = _span(layout, k, d)
                if span is None:
                    continue
                rows = plan[name][0]
                dense = get_weight(model, name).detach().double()
                dense = dense if rows is None else dense[rows]
                expected = dense[:, span] @ a
                position = next(i for i, b in enumerate(layout) if b.layer == k and b.direction == d)
                offset = sum(b.width if b.layer is None else len(keep[b.layer]) for b in layout[:position])
                got = get_weight(result.model, name).detach().double()[:, offset:offset + len(keep[k])]
                assert torch.allclose(got, expected, atol=1e-5), name


def test_spectral_on_a_linear_head_folds_the_reconstruction_and_on_layernorm_removes_without_it():
    for cls, folded in [(BiGRUMeanPool, [True]), (EveryStepTagger, [True]), (LSTMLayerNorm, [False]),
                        (MaxPoolGRU, [False]), (TwoGRUs, [False, True]), (ShapeCheckingGRU, [False])]:
        model, data = _model(cls), _data(cls)
        result = prune(model, "spectral", 0.5, data)
        assert result.info["reconstructed"] == folded, cls.__name__
    result = prune(_model(BiGRUMeanPool), "spectral", 0.5, _data(BiGRUMeanPool), reconstruct=False)
    assert result.info["reconstructed"] == [False]


def test_spectral_chooses_the_units_the_library_chooses_on_the_same_states():
    from lattice_lab.ridge import greedy_select

    model, data = _model(TimeMajorLSTM), _data(TimeMajorLSTM)
    view = view_of(model, data[0][:2])
    states = _top_states(model, view, data[0])[0]
    cov = np.einsum("dni,dnj->dij", states, states) / states.shape[1]
    result = prune(model, "spectral", 0.5, data, theta=0.0)
    lam = 1e-3 * float(np.trace(cov.sum(axis=0))) / cov.shape[1]
    assert result.info["lam"][0] == pytest.approx(lam)
    assert result.kept_units[0].tolist() == sorted(greedy_select(cov, 4, lam).tolist())


def test_spectral_refuses_center_on_a_foreign_model():
    with pytest.raises(ValueError, match="The 'center' option of spectral is not offered on a model of the user's own"):
        prune(_model(BiGRUMeanPool), "spectral", 0.5, _data(BiGRUMeanPool), center=True)


@pytest.mark.parametrize("cls", [BiGRUMeanPool, TwoGRUs, TokenGRU], ids=lambda c: c.__name__)
def test_analysis_and_sweep_accept_a_foreign_model(cls):
    from lattice_lab import analysis, compare
    from lattice_lab.recurrent.data import as_dataset

    model, data = _model(cls), _data(cls)
    before = _state(model)
    report = analysis.analyze(model, thresholds=[0.9], data=data)
    view = view_of(model, data[0][:2])
    assert report["model"] == {"kind": cls.__name__, "hidden_size": view.hidden_sizes()}
    assert [row["tensor"] for row in report["ramanujan"]] == view.scope_names("recurrent")
    assert report["posets"][0]["units"] <= view.hidden_sizes()[0] * view.layers[0].directions
    assert "meet-irr" in analysis.format_report(report)
    assert [row["units"] for row in report["spectral"]] == [layer.hidden_size * layer.directions
                                                            for layer in view.layers]
    for k, states in _top_states(model, view, data[0]).items():  # the trace of Σ̂, from a hook of our own
        assert report["spectral"][k]["trace"] == pytest.approx(float((states ** 2).sum()) / states.shape[1])
    assert "Hidden-state covariance" in analysis.format_report(report)
    rows = compare.sweep(model, data, methods=["magnitude", "magnitude-units"], amounts=[0.5], seeds=[0], cache=False,
                         progress=False)
    direct = prune(model, "magnitude", 0.5, data)
    assert rows[0]["sparsity"] == direct.sparsity and rows[0]["accuracy"] == pytest.approx(direct.info["score"])
    assert rows[1]["hidden_units"] == sum(max(1, round(h / 2)) for h in view.hidden_sizes())
    row = compare.sweep(model, as_dataset(data), methods=["spectral"], amounts=[0.5], seeds=[0], cache=False,
                        progress=False)[0]
    assert row["accuracy"] == pytest.approx(prune(model, "spectral", 0.5, data).info["score"])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
