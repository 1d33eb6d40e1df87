"""Every number the course teaches is computed in a notebook or traceable to a committed file.

A number in a notebook's markdown is either printed by a code cell, or **declared** in its cell's
metadata under ``lattice_lab_sources``: a list of sources such as ::

    {"text": "98.51%", "file": "lattice_lab/shipped/mnist-lstm.json", "path": ["test_accuracy"],
     "format": "{:.2%}"}

``file`` is relative to the repository root; ``path`` walks the JSON: a key, a list index, or a
dict that selects the rows of a list whose fields match it (a list as a field's value means "any
of these"; floats match to 1e-9). When several rows match, ``"aggregate"`` says what to do:
``mean``, ``min``, ``max``, or ``range`` (the pair min, max, for a text such as "45%–60%" with a
two-field format "{0:.0%}–{1:.0%}"). ``format`` is a ``str.format`` template; an optional
``scale`` multiplies the value first (100 for a bare "98.1" in a table of percentages). The README's
prose numbers are declared the same way in ``docs/readme_sources.json`` (``{"sources": [...]}``).

The tests check that every declared text appears where it is declared and equals its source,
formatted; and that no **result-looking number** — a percentage, or a number with a decimal
point — in notebook markdown, the README's prose or ``notebooks/README.md`` is left undeclared
(each occurrence needs a declaration of its own). Not result-looking, and allowed (the allowlist
below, with the reason for each rule): the values of a named setting (``q = 0.95``), exponents
(``c^{0.25}``), the fractions of weights the course's grids prune (50%, 75%, ...), versions, and
whatever is in code (fenced blocks, inline code), in references, section marks and arXiv numbers.
The README's block between ``<!-- results:start -->`` and ``<!-- results:end -->`` is generated
from the results files by ``make bench`` and is not prose.
"""
from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from statistics import fmean

import nbformat
import pytest

from lattice_lab.verdicts import matches

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [path.name for path in NOTEBOOKS]
README = ROOT / "README.md"
README_SOURCES = ROOT / "docs" / "readme_sources.json"
OTHER_PROSE = [NOTEBOOK_DIR / "README.md"]
"""Further course documents scanned for undeclared numbers (they declare none: they quote none)."""
METADATA_KEY = "lattice_lab_sources"
AGGREGATES = ("mean", "min", "max", "range")
RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"

_NUMBER = r"\d+(?:\.\d+)?"
_END = r"(?![\w%]|\.\d)"  # the number ends here (a sentence's full stop may follow; a version's next part may not)
TOKEN = re.compile(rf"(?<![\w.]){_NUMBER}\s?%?\s?[–-]\s?{_NUMBER}\s?%"  # a range of percentages: 45%–60%, 17–54%
                   rf"|(?<![\w.]){_NUMBER}\s?%"                          # a percentage: 98.51%, 50 %
                   rf"|(?<![\w.])\d+\.\d+{_END}")                        # a number with a decimal point: 0.962
"""What counts as a result-looking number (versions such as 2.11.0 are not: the lookarounds exclude them)."""

# ---- the allowlist: numbers that define something rather than report a result -------------------------------
_RELATION = r"(?:=|≈|\\approx|\\ge|\\le|≥|≤|<|>|\\gtrsim|\\lesssim)"
SETTING = re.compile(
    rf"(?:(?:\bq\^?\*?|q\^\{{\*\}}|\\theta|θ|\\tau|τ|\\lambda|λ|\\sigma(?:_\{{\\text\{{noise\}}\}})?|σ|\bp|\\rvert|\|)\s*\$?\s*{_RELATION}"
    rf"|(?:\bthreshold|\bamount|\bdensity|\bquantile|\blr|\blearning rate|centrality_power|critical_bonus)"
    rf"\s*{_RELATION}?)\s*\$?\s*$")
"""A number right after a setting's name is its value: the reader sets it, nothing measured it. Symbols
(the threshold quantile q, θ, τ, λ, σ and the noise level σ_noise, a power p, a cut on |w|) need a relation (q = 0.95, |w| ≥ 0.5);
words (threshold, amount, density, quantile, lr, ...) may stand alone (density 0.1, `amount` 0.75)."""
EXPONENT = re.compile(r"\^\{?\s*$")
"""A number right after ``^`` or ``^{`` is an exponent in a formula (the centrality power c^{0.25})."""
GRID_PERCENTS = {"5%", "10%", "25%", "50%", "60%", "75%", "90%", "95%", "100%"}
"""The fractions of weights the course's grids prune or keep (amounts 0.5, 0.6, 0.75, 0.9, 0.95 and
their complements): settings of an experiment. A range of them is still flagged: "at 75–95%" is a claim."""
NOT_PROSE = [re.compile(pattern, re.DOTALL) for pattern in (
    r"```.*?```",           # fenced code (removed first)
    r"<!--.*?-->",          # comments
    r"\]\([^)]*\)",         # link targets
    r"https?://\S+",        # addresses
    r"arXiv:?\s*\d+\.\d+",  # arXiv numbers
    r"§\s*[\d.–-]+",        # section marks
)]


def normalize(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("-", "–")


INLINE_CODE = re.compile(r"`([^`\n]*)`")


def prose(text: str) -> str:
    """``text`` without what is not prose (each piece replaced by a space). Inline code goes too, except a
    bare name, which stays as a word: in "`threshold` 0.9" the name says that 0.9 is a setting."""
    text = NOT_PROSE[0].sub(" ", text)  # fenced code first: its backticks would pair up with inline ones
    text = INLINE_CODE.sub(lambda m: m.group(1) if re.fullmatch(r"\w+", m.group(1)) else " ", text)
    for pattern in NOT_PROSE[1:]:
        text = pattern.sub(" ", text)
    return text


def quoted_numbers(text: str) -> list[str]:
    """The result-looking numbers of a markdown text that the allowlist does not excuse, normalized."""
    text = prose(text)
    found = []
    for match in TOKEN.finditer(text):
        token, before = normalize(match.group(0)), text[max(0, match.start() - 40):match.start()]
        if SETTING.search(before) or EXPONENT.search(before) or token in GRID_PERCENTS:
            continue
        found.append(token)
    return found


# ---- resolving a declared source ------------------------------------------------------------------------------

def resolve(document, path: list):
    """The values ``path`` leads to in a JSON document (a list: one value, or several after a selector)."""
    values = [document]
    for step in path:
        if isinstance(step, dict):
            values = [row for value in values for row in value if matches(row, step)]
            if not values:
                raise LookupError(f"no row matches {step}")
        else:
            values = [value[step] for value in values]
    return values


def source_value(source: dict, root: Path = ROOT):
    """The number (or, for ``range``, the pair) a declaration points at."""
    document = json.loads((root / source["file"]).read_text())
    values = resolve(document, source["path"])
    aggregate = source.get("aggregate")
    if aggregate is not None and aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    if aggregate is None and len(values) != 1:
        raise LookupError(f"{len(values)} values match {source['path']}; say how to aggregate them")
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in values):
        raise LookupError(f"{source['path']} leads to non-numbers: {values[:3]}")
    scale = source.get("scale", 1)
    if aggregate == "range":
        return scale * min(values), scale * max(values)
    return scale * {"mean": fmean, "min": min, "max": max, None: lambda v: v[0]}[aggregate](values)


def formatted(source: dict, root: Path = ROOT) -> str:
    value = source_value(source, root)
    return source["format"].format(*value) if isinstance(value, tuple) else source["format"].format(value)


def declaration_problems(sources: list[dict], text: str, where: str, root: Path = ROOT) -> list[str]:
    """What is wrong with the declarations of one cell (or of the README): empty when nothing is."""
    problems = []
    for source in sources:
        missing = {"text", "file", "path", "format"} - set(source)
        if missing:
            problems.append(f"{where}: a source lacks {sorted(missing)}: {source}")
            continue
        if quoted_numbers(source["text"]) != [normalize(source["text"])]:
            problems.append(f"{where}: a declared text must be one result-looking number, got {source['text']!r}")
        if source["text"] not in text:
            problems.append(f"{where}: {source['text']!r} is declared but not in the text")
        try:
            value = formatted(source, root)
        except (OSError, LookupError, KeyError, IndexError, TypeError, ValueError) as error:
            problems.append(f"{where}: {source['text']!r}: its source does not resolve: {error!r}")
            continue
        if value != source["text"]:
            problems.append(f"{where}: the text says {source['text']!r} but {source['file']} "
                            f"{source['path']} gives {value!r}")
    return problems


def undeclared(text: str, sources: list[dict]) -> list[str]:
    """Result-looking numbers of ``text`` not covered by a declaration (one declaration per occurrence)."""
    left = Counter(quoted_numbers(text)) - Counter(normalize(s.get("text", "")) for s in sources)
    return sorted(left.elements())


# ---- the detector and the resolver themselves ---------------------------------------------------------------

def test_detector_flags_results_and_excuses_settings_code_and_versions():
    text = ("The LSTM keeps 97.9% at 50% sparsity; at $q = 0.95$ and $q^* \\approx 0.962$ the score is "
            "$c^{0.25}$, torch 2.11.0, `98.5%` in code, arXiv 2502.16525, stops at 45–60 % and 0.935. "
            "Try `threshold` 0.9, then 0.98, density 0.1, $|w| \\ge 0.5$ (cut at 0.4), "
            "$\\sigma_{\\text{noise}} = 1.5$ and $\\sigma_{\\text{other}} = 2.5$.")
    assert quoted_numbers(text) == ["97.9%", "45–60%", "0.935", "0.98", "0.4", "2.5"]


def test_resolver_selects_rows_aggregates_and_formats(tmp_path):
    rows = {"rows": [{"method": "m", "amount": 0.5, "seed": s, "accuracy": a} for s, a in enumerate((0.9, 0.92))]
            + [{"method": "m", "amount": 0.75, "seed": 0, "accuracy": 0.5}]}
    (tmp_path / "r.json").write_text(json.dumps(rows))
    base = {"file": "r.json", "path": ["rows", {"method": "m", "amount": 0.5}, "accuracy"]}
    assert formatted({**base, "format": "{:.1%}", "aggregate": "mean"}, tmp_path) == "91.0%"
    assert formatted({**base, "format": "{:.1f}", "scale": 100, "aggregate": "max"}, tmp_path) == "92.0"
    assert formatted({**base, "path": ["rows", {"amount": [0.5, 0.75]}, "accuracy"], "aggregate": "range",
                      "format": "{0:.0%}–{1:.0%}"}, tmp_path) == "50%–92%"
    with pytest.raises(LookupError, match="aggregate"):
        formatted({**base, "format": "{:.1%}"}, tmp_path)
    problems = declaration_problems([{**base, "text": "91.5%", "format": "{:.1%}", "aggregate": "mean"}],
                                    "it holds 91.5% here", "cell", tmp_path)
    assert problems == ["cell: the text says '91.5%' but r.json ['rows', {'method': 'm', 'amount': 0.5}, "
                        "'accuracy'] gives '91.0%'"]
    assert declaration_problems([{**base, "text": "91.0%", "format": "{:.1%}", "aggregate": "mean"}],
                                "it holds 91.0% here", "cell", tmp_path) == []


# ---- the course ---------------------------------------------------------------------------------------------

def _cells(path: Path):
    notebook = nbformat.read(path, as_version=4)
    body = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and re.search(r"^## References\s*$", cell.source, re.MULTILINE):
            break  # the bibliography: volumes, pages and years
        body.append(cell)
    return notebook, body


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_numbers_are_declared_and_equal_their_sources(path):
    notebook, cells = _cells(path)
    problems = []
    for index, cell in enumerate(cells):
        sources = cell.metadata.get(METADATA_KEY, [])
        if sources and cell.cell_type != "markdown":
            problems.append(f"cell {index}: only markdown cells declare sources (code cells compute)")
        if cell.cell_type != "markdown":
            continue
        problems += declaration_problems(sources, cell.source, f"cell {index}")
        left = undeclared(cell.source, sources)
        if left:
            problems.append(f"cell {index}: undeclared numbers {left}: compute them in a code cell, or declare "
                            f"their source under metadata[{METADATA_KEY!r}]")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def readme_prose() -> str:
    text = README.read_text()
    start, end = text.index(RESULTS_START), text.index(RESULTS_END)
    return text[:start] + text[end + len(RESULTS_END):]


def test_readme_numbers_are_declared_and_equal_their_sources():
    sources = json.loads(README_SOURCES.read_text())["sources"]
    text = readme_prose()
    problems = declaration_problems(sources, text, "README")
    left = undeclared(text, sources)
    if left:
        problems.append(f"README: undeclared numbers {left}: declare them in {README_SOURCES.relative_to(ROOT)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", OTHER_PROSE, ids=[p.relative_to(ROOT).as_posix() for p in OTHER_PROSE])
def test_other_course_documents_quote_no_result(path):
    assert undeclared(path.read_text(), []) == []


# ---- words of comparison and quantity -------------------------------------------------------------------------
#
# A sentence that compares ("beats", "worse", "better", "buys", "within noise") or quantifies over results ("every",
# "all", "never", "always", "above", "below" in a sentence about accuracy, seeds, points, ...) is a result. Each such
# sentence of notebook markdown, the README's prose and docs/METHODS.md holds the ``text`` of a **claim** declared
# beside it: a notebook cell's metadata under ``lattice_lab_claims``, ``"claims"`` in docs/readme_sources.json for
# the README and in docs/methods_sources.json for METHODS. A claim is one of
#
# - a **verdict** recomputed here with the course's verdict function (lattice_lab.verdicts.compare_rows: Welch,
#   Holm across the family, MDE): ``{"text", "file", "rows": [path to per-seed rows, ending in a selector; a run
#   of structure_claims.json counts its spec's fields as its own],
#   "first": {selector}, "second": {selector}, "by": [fields pairing the grid points], "value": "accuracy",
#   "trials": int or a path (test sequences, for arms whose seeds change nothing), "expect": "above" | "below" |
#   "within noise" | "not above" | "not below", "at": "every" | "some" | "none"}`` — "lattice-q0.98 is below the
#   default at every amount" is ``expect: below, at: every`` over the amounts;
# - a **recorded verdict**: ``{"text", "file", "path", "expect": value}``, every value the path leads to equal to
#   ``expect`` (the outcomes the benchmarks stored with lattice_lab.verdicts, say);
# - ``{"text", "asserted_by": "..."}``: a code cell of the same notebook asserts it (an ``assert`` statement
#   whose source holds that string); the notebooks run in full mode on MNIST in CI;
# - ``{"text", "not_a_result": "why"}``: the words quantify over definitions, not results ("every row keeps
#   exactly c inputs" describes a construction). The reason is required and read in review.
#
# A test fails when a claim sentence has no declaration, when a declaration's text is not in its document, and
# when a declared verdict and its rows disagree.

CLAIMS_KEY = "lattice_lab_claims"
METHODS = ROOT / "docs" / "METHODS.md"
METHODS_SOURCES = ROOT / "docs" / "methods_sources.json"
COMPARISON = re.compile(r"\b(?:beats?|beating|beaten|outperforms?|worse|better|buys?|bought|within noise|no effect"
                        r"|no difference|clear winner|more robust|less robust)\b", re.IGNORECASE)
"""Words that compare: a sentence holding one is a claim."""
QUANTITY = re.compile(r"\b(?:every|all|never|always|ahead|behind|above|below|as well as|most robust"
                      r"|least robust|clearly)\b", re.IGNORECASE)
"""Words that quantify or rank: a claim where the sentence speaks of results (:data:`RESULT_CONTEXT`)."""
RESULT_CONTEXT = re.compile(r"accura|robust|\d\s?%|\bpoints?\b|\bseeds?\b|\bnoise\b|\bgains?\b|\bwins?\b|\bloses?\b"
                            r"|\bcosts?\b", re.IGNORECASE)
"""What makes a quantified sentence speak of results: accuracy, robustness, a percentage, points, seeds, noise."""
EXPECTATIONS = {"above": {"above"}, "below": {"below"}, "within noise": {"within noise"},
                "not above": {"below", "within noise"}, "not below": {"above", "within noise"}}
QUANTIFIERS = {"every": all, "some": any, "none": lambda held: not any(held)}


def sentences(text: str) -> list[str]:
    """The sentences of a markdown text's prose (list items and table cells end one), whitespace collapsed."""
    parts = re.split(r"(?<=[.!?;])\s+(?=[A-Z*$(`_])|\n\s*(?:[-*]|\d+\.)\s+|\n\s*\n|\|", prose(text))
    return [" ".join(part.split()) for part in parts if part.strip()]


def claim_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that compare or quantify over results."""
    return [s for s in sentences(text) if COMPARISON.search(s) or (QUANTITY.search(s) and RESULT_CONTEXT.search(s))]


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def _asserts(code_cells: list[str]) -> list[str]:
    """The source of every ``assert`` statement of some code cells."""
    found = []
    for source in code_cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # a cell with IPython syntax asserts nothing we can read
            continue
        found += [ast.get_source_segment(source, node) or "" for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    return found


def verdict_of(claim: dict, root: Path = ROOT) -> tuple[bool, str]:
    """Whether a declared verdict holds, and what the rows say (the verdicts, or the values found)."""
    from lattice_lab import verdicts

    document = json.loads((root / claim["file"]).read_text())
    if "rows" in claim:
        if not isinstance(claim["rows"][-1], dict):
            raise LookupError(f"a claim's rows path must end in a selector, got {claim['rows']}")
        trials = claim.get("trials")
        if isinstance(trials, list):
            (trials,) = resolve(document, trials)
        rows = [{**{k: v for k, v in row.items() if k != "spec"}, **row.get("spec", {})}  # a run: its spec's fields
                for row in resolve(document, claim["rows"])]
        found = verdicts.compare_rows(rows, claim["first"], claim["second"],
                                      by=claim["by"], value=claim["value"], trials=trials)
        if not found:
            raise LookupError(f"the arms {claim['first']} and {claim['second']} share no grid point")
        held = [v.outcome in EXPECTATIONS[claim["expect"]] for v in found]
        return QUANTIFIERS[claim["at"]](held), "; ".join(f"{v.at}: {v.sentence}" for v in found)
    values = resolve(document, claim["path"])
    return all(value == claim["expect"] for value in values), f"{claim['path']} gives {values}"


def claim_problems(claims: list[dict], text: str, where: str, code_cells: list[str] | None = None,
                   root: Path = ROOT) -> list[str]:
    """What is wrong with one document's claims: undeclared claim sentences, and declarations that do not hold."""
    problems, body = [], _collapsed(text)
    kinds = ("expect", "asserted_by", "not_a_result")
    for claim in claims:
        if "text" not in claim or sum(kind in claim for kind in kinds) != 1:
            problems.append(f"{where}: a claim needs a text and exactly one of {kinds}: {claim}")
            continue
        if _collapsed(claim["text"]) not in body:
            problems.append(f"{where}: the claim {claim['text']!r} is not in the text")
        if "not_a_result" in claim and not str(claim["not_a_result"]).strip():
            problems.append(f"{where}: {claim['text']!r}: say why it is not a result")
        if "asserted_by" in claim:
            if code_cells is None:
                problems.append(f"{where}: {claim['text']!r}: only a notebook has cells to assert it")
            elif not any(claim["asserted_by"] in segment for segment in _asserts(code_cells)):
                problems.append(f"{where}: {claim['text']!r}: no assert statement holds {claim['asserted_by']!r}")
        if "expect" in claim:
            try:
                held, detail = verdict_of(claim, root)
            except (OSError, LookupError, KeyError, IndexError, TypeError, ValueError) as error:
                problems.append(f"{where}: {claim['text']!r}: its rows do not resolve: {error!r}")
                continue
            if not held:
                problems.append(f"{where}: the text says {claim['text']!r} ({claim['expect']} at {claim.get('at')}) "
                                f"but the rows say: {detail}")
    texts = [_collapsed(prose(c.get("text", ""))) for c in claims]  # as the sentences read: inline code removed
    for sentence in claim_sentences(text):
        if not any(t and t in sentence for t in texts):
            problems.append(f"{where}: an undeclared claim: {sentence!r}")
    return problems


def test_the_claim_detector_finds_comparisons_and_quantified_results():
    text = ("Lattice is worse than magnitude. Every row keeps exactly c inputs. At every amount the accuracy falls; "
            "all four gate blocks. It is below magnitude at 90%.\n\n- spectral keeps 95.7% at every width\n\n"
            "`code: better` is code.")
    assert claim_sentences(text) == ["Lattice is worse than magnitude.", "At every amount the accuracy falls; all four gate blocks.",
                                     "It is below magnitude at 90%.", "spectral keeps 95.7% at every width"]


def test_a_declared_verdict_that_its_rows_contradict_fails(tmp_path):
    rows = [{"model": "m", "method": method, "amount": amount, "seed": seed,
             "accuracy": base + (0.1 if method == "q" and amount == 0.9 else 0) + 0.001 * seed}
            for method, base in (("q", 0.5), ("default", 0.6)) for amount in (0.5, 0.9) for seed in range(3)]
    (tmp_path / "r.json").write_text(json.dumps({"rows": rows}))
    claim = {"text": "much worse at every amount", "file": "r.json", "rows": ["rows", {"model": "m"}],
             "first": {"method": "q"}, "second": {"method": "default"}, "by": ["amount"], "value": "accuracy",
             "expect": "below", "at": "every"}
    text = "q is much worse at every amount."
    problems = claim_problems([claim], text, "cell", root=tmp_path)
    assert len(problems) == 1 and "but the rows say: (0.5,): q is below default by 10.00 points" in problems[0]
    assert claim_problems([{**claim, "at": "some"}], text, "cell", root=tmp_path) == []
    assert claim_problems([], text, "cell", root=tmp_path) == ["cell: an undeclared claim: "
                                                                "'q is much worse at every amount.'"]
    asserted = {"text": "much worse at every amount", "asserted_by": "worse everywhere"}
    assert claim_problems([asserted], text, "cell", ["assert x < y, 'worse everywhere'"], tmp_path) == []
    assert "no assert statement" in claim_problems([asserted], text, "cell", ["print('worse everywhere')"],
                                                   tmp_path)[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_claims_are_declared_and_hold(path):
    notebook, cells = _cells(path)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    problems = []
    for index, cell in enumerate(cells):
        claims = cell.metadata.get(CLAIMS_KEY, [])
        if cell.cell_type != "markdown":
            if claims:
                problems.append(f"cell {index}: only markdown cells declare claims")
            continue
        problems += claim_problems(claims, cell.source, f"cell {index}", code)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("document, declarations", [(README, README_SOURCES), (METHODS, METHODS_SOURCES)],
                         ids=["README.md", "docs/METHODS.md"])
def test_prose_claims_are_declared_and_hold(document, declarations):
    text = readme_prose() if document == README else document.read_text()
    claims = json.loads(declarations.read_text()).get("claims", [])
    problems = claim_problems(claims, text, document.name)
    assert not problems, "\n".join(problems)
