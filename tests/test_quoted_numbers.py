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

import json
import math
import re
from collections import Counter
from pathlib import Path
from statistics import fmean

import nbformat
import pytest

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
    rf"(?:(?:\bq\^?\*?|q\^\{{\*\}}|\\theta|θ|\\tau|τ|\\lambda|λ|\\sigma|σ|\bp|\\rvert|\|)\s*\$?\s*{_RELATION}"
    rf"|(?:\bthreshold|\bamount|\bdensity|\bquantile|\blr|\blearning rate|centrality_power|critical_bonus)"
    rf"\s*{_RELATION}?)\s*\$?\s*$")
"""A number right after a setting's name is its value: the reader sets it, nothing measured it. Symbols
(the threshold quantile q, θ, τ, λ, σ, a power p, a cut on |w|) need a relation (q = 0.95, |w| ≥ 0.5);
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

def _matches(row, selector: dict) -> bool:
    def same(value, wanted):
        if isinstance(wanted, list):
            return any(same(value, w) for w in wanted)
        if isinstance(wanted, float) or isinstance(value, float):
            return isinstance(value, (int, float)) and math.isclose(value, wanted, rel_tol=0, abs_tol=1e-9)
        return value == wanted
    return isinstance(row, dict) and all(key in row and same(row[key], wanted) for key, wanted in selector.items())


def resolve(document, path: list):
    """The values ``path`` leads to in a JSON document (a list: one value, or several after a selector)."""
    values = [document]
    for step in path:
        if isinstance(step, dict):
            values = [row for value in values for row in value if _matches(row, step)]
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
            "Try `threshold` 0.9, then 0.98, density 0.1, $|w| \\ge 0.5$ (cut at 0.4).")
    assert quoted_numbers(text) == ["97.9%", "45–60%", "0.935", "0.98", "0.4"]


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
