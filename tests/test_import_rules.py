"""Every module's declared import rule, read from its docstring and checked with ``ast``.

A module's first docstring ends its import rule with one line, in one of two forms::

    Must not import: widgets, cli, compare.
    Must not import anything from the package (except settings and validation).

Names are lattice_lab modules or packages written from the package root (``pruning.spectral``,
``widgets.state``); a forbidden package forbids everything inside it. The second form forbids
every lattice_lab import except the modules named after "except" in its parentheses (other words
in parentheses, such as "(numpy only)", name no exception). Imports are found anywhere in the
module (top level and inside functions), absolute or relative, ``from . import x`` included.
Modules are found by walking ``lattice_lab/``, so new modules and packages are checked unasked.

On top of the rules, the layering of the design: nothing imports ``widgets``, ``cli`` or
``compare``, except that ``widgets`` and ``cli`` may import ``compare`` (and each package its own
modules). ``compare`` is a package, and the layering covers all of it: the sweep's front door and
its rooms (``compare.specs``, ``compare.cell``, ``compare.cache``, ``compare.executors``) sit above
everything but ``widgets`` and ``cli``. The package's ``__init__`` is the front door
(``ll.compare``, ``ll.widgets``) and the one exception to the layering.

And no import circle: the graph of every import the checker finds (top level and inside
functions, ``TYPE_CHECKING`` blocks included) has no cycle (``networkx.simple_cycles``), and a
failure names each circle. A registry that imports its loaders is not imported by them; a
module that needs a lazy import back to its importer has two ideas in one room.
"""
from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(importlib.util.find_spec("lattice_lab").origin).parent
RULE = re.compile(r"Must not import(?:: (?P<names>[\w.]+(?:, [\w.]+)*)"
                  r"| anything from the package(?: \((?P<note>[^()]*)\))?)\.")
TOP = {"widgets": ("widgets",), "cli": ("cli",), "compare": ("compare", "widgets", "cli")}
"""Each top room (a module or package, with everything inside it), and who may import it."""


def _name(path: Path, root: Path = PACKAGE) -> str:
    """Dotted name from the package root: ``models``, ``pruning.base``, ``pruning`` (its __init__), ``""``."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(root: Path = PACKAGE) -> dict[str, tuple[Path, ast.Module]]:
    return {_name(path, root): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(root.rglob("*.py")) if "__pycache__" not in path.parts}


def _parts(name: str) -> tuple[str, ...]:
    return tuple(name.split(".")) if name else ()


def parse_rule(docstring: str | None) -> tuple[str, set[str]] | None:
    """``("none of", names)`` or ``("nothing but", exceptions)`` from a docstring's rule line; None if absent.

    The rule is a line of its own; a docstring with two rule lines is an error.
    """
    found = [m for m in (RULE.fullmatch(line.strip()) for line in (docstring or "").splitlines()) if m]
    if not found:
        return None
    if len(found) > 1:
        raise ValueError(f"two import rules: {[m.group(0) for m in found]}")
    match = found[0]
    if match.group("names"):
        return "none of", set(match.group("names").split(", "))
    note = match.group("note") or ""
    if not note.startswith("except "):
        return "nothing but", set()
    return "nothing but", {name for name in re.split(r",\s*(?:and\s+)?|\s+and\s+", note[len("except "):]) if name}


def imported_modules(module: str, is_package: bool, tree: ast.Module, known: set[str]) -> set[str]:
    """The lattice_lab modules ``module`` imports anywhere in ``tree`` (dotted names from the root).

    ``from X import y`` imports the module ``X.y`` when ``X.y`` is one, else ``X`` itself.
    """
    here = _parts(module) if is_package else _parts(module)[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "lattice_lab" or alias.name.startswith("lattice_lab."):
                    found.add(alias.name.partition(".")[2])
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            if node.level - 1 > len(here):
                raise ValueError(f"{module}: a relative import climbs above the package")
            base = here[:len(here) - (node.level - 1)] + _parts(node.module or "")
        elif node.module == "lattice_lab" or (node.module or "").startswith("lattice_lab."):
            base = _parts(node.module)[1:]
        else:
            continue
        for alias in node.names:
            submodule = ".".join(base + (alias.name,))
            found.add(submodule if submodule in known else ".".join(base))
    return found


def _within(name: str, prefix: str) -> bool:
    return _parts(name)[:len(_parts(prefix))] == _parts(prefix)


def violations(sources: dict[str, tuple[Path, ast.Module]]) -> list[str]:
    """Every import a module's own rule forbids, as ``"module imports target (rule)"``."""
    known = set(sources)
    found = []
    for module, (path, tree) in sorted(sources.items()):
        rule = parse_rule(ast.get_docstring(tree))
        if rule is None:
            continue
        form, names = rule
        for target in sorted(imported_modules(module, path.name == "__init__.py", tree, known)):
            forbidden = (any(_within(target, name) for name in names) if form == "none of"
                         else not any(_within(target, name) for name in names))
            if forbidden:
                found.append(f"{module or 'lattice_lab'} imports {target or 'lattice_lab'} ({form} {sorted(names)})")
    return found


def layering_violations(sources: dict[str, tuple[Path, ast.Module]]) -> list[str]:
    known = set(sources)
    found = []
    for module, (path, tree) in sorted(sources.items()):
        if module == "":
            continue  # the front door: lattice_lab/__init__ offers ll.compare and ll.widgets
        for target in sorted(imported_modules(module, path.name == "__init__.py", tree, known)):
            for top, allowed in TOP.items():
                if _within(target, top) and not any(_within(module, name) for name in allowed):
                    found.append(f"{module} imports {target}")
    return found


def import_graph(sources: dict[str, tuple[Path, ast.Module]]) -> nx.DiGraph:
    """The package's import graph: an edge from each module to every lattice_lab module it imports, anywhere.

    Nodes are dotted names from the root (``""`` is the package's own ``__init__``), as
    :func:`imported_modules` finds them; a package's ``__init__`` is a node of its own, so a
    module that imports its package's front door is an edge to it.
    """
    graph = nx.DiGraph()
    known = set(sources)
    graph.add_nodes_from(known)
    for module, (path, tree) in sources.items():
        targets = imported_modules(module, path.name == "__init__.py", tree, known)
        graph.add_edges_from((module, target) for target in targets if target != module)
    return graph


def import_cycles(sources: dict[str, tuple[Path, ast.Module]]) -> list[str]:
    """Every import circle of the package, as ``"a -> b -> a"``, shortest first (networkx.simple_cycles).

    Each circle starts at its alphabetically first module, so one circle always reads the same.
    """
    found = [cycle[cycle.index(min(cycle)):] + cycle[:cycle.index(min(cycle))]
             for cycle in nx.simple_cycles(import_graph(sources))]
    cycles = sorted(found, key=lambda cycle: (len(cycle), cycle))
    return [" -> ".join((name or "lattice_lab") for name in cycle + cycle[:1]) for cycle in cycles]


# ------------------------------------------------------------------------------ the package

def test_every_module_declares_its_import_rule():
    missing = sorted(name or "__init__" for name, (_, tree) in _sources().items()
                     if parse_rule(ast.get_docstring(tree)) is None)
    assert not missing, f"modules whose docstring has no 'Must not import' line: {missing}"


def test_rules_name_modules_of_the_package():
    sources = _sources()
    unknown = {}
    for module, (_, tree) in sources.items():
        rule = parse_rule(ast.get_docstring(tree))
        if rule is not None and rule[1] - set(sources):
            unknown[module or "__init__"] = sorted(rule[1] - set(sources))
    assert not unknown, f"rules that name no lattice_lab module or package: {unknown}"


def test_no_module_imports_what_its_rule_forbids():
    assert violations(_sources()) == []


def test_nothing_imports_widgets_cli_or_compare():
    assert layering_violations(_sources()) == []


def test_the_package_has_no_import_circle():
    cycles = import_cycles(_sources())
    assert not cycles, "import circles (each module imports the next, the last the first):\n" + "\n".join(cycles)


# ------------------------------------------------------------------------------ the checker itself

def _fake_package(tmp_path: Path, files: dict[str, str]) -> dict[str, tuple[Path, ast.Module]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return _sources(tmp_path)


def test_parse_rule_reads_both_forms_and_their_exceptions():
    assert parse_rule("What it is.\n\nMust not import: widgets, cli, pruning.spectral.\n") == (
        "none of", {"widgets", "cli", "pruning.spectral"})
    assert parse_rule("Must not import anything from the package (numpy only).") == ("nothing but", set())
    assert parse_rule("Must not import anything from the package.") == ("nothing but", set())
    assert parse_rule("Must not import anything from the package (except settings and validation).") == (
        "nothing but", {"settings", "validation"})
    assert parse_rule("Must not import anything from the package (except models, settings and validation).") == (
        "nothing but", {"models", "settings", "validation"})


def test_parse_rule_wants_a_line_of_its_own_in_the_exact_form():
    assert parse_rule("It runs fast. Must not import anything from the package.") is None
    assert parse_rule("Must not import widgets or cli.") is None
    assert parse_rule("Must not import: widgets, cli") is None
    assert parse_rule(None) is None
    with pytest.raises(ValueError, match="two import rules"):
        parse_rule("Must not import: cli.\nMust not import: widgets.")


def test_the_checker_finds_every_form_of_import(tmp_path):
    sources = _fake_package(tmp_path, {
        "__init__.py": "from . import models\n",
        "models.py": '"""M.\n\nMust not import anything from the package (except validation)."""\n'
                     "from .validation import check_int\n"
                     "def f():\n    from . import graphs\n",
        "validation.py": '"""V.\n\nMust not import anything from the package."""\n',
        "graphs.py": '"""G.\n\nMust not import: pruning.\n"""\n'
                     "import lattice_lab.models\n"
                     "from lattice_lab.pruning.base import prune\n",
        "pruning/__init__.py": "from .base import prune\n",
        "pruning/base.py": '"""B.\n\nMust not import: widgets.\n"""\n'
                           "from .. import models\nfrom ..widgets import lab\n",
        "widgets/__init__.py": "",
        "widgets/lab.py": '"""L.\n\nMust not import: cli.\n"""\nfrom ..compare import sweep\nfrom .. import cli\n'
                          "from ..compare.cell import run_cell\n",
        "compare/__init__.py": '"""C.\n\nMust not import: widgets.\n"""\nfrom .cell import run_cell\n',
        "compare/cell.py": '"""R.\n\nMust not import: widgets.\n"""\nfrom ..models import build\n',
        "train.py": '"""T.\n\nMust not import: cli.\n"""\nfrom .compare.cell import run_cell\n',
        "cli.py": '"""C.\n\nMust not import: widgets.\n"""\nfrom . import compare\n',
    })
    known = set(sources)
    path, tree = sources["pruning.base"]
    assert imported_modules("pruning.base", False, tree, known) == {"models", "widgets.lab"}
    path, tree = sources["pruning"]
    assert imported_modules("pruning", True, tree, known) == {"pruning.base"}
    assert violations(sources) == [
        "graphs imports pruning.base (none of ['pruning'])",
        "models imports graphs (nothing but ['validation'])",
        "pruning.base imports widgets.lab (none of ['widgets'])",
        "widgets.lab imports cli (none of ['cli'])",
    ]
    assert layering_violations(sources) == ["pruning.base imports widgets.lab", "train imports compare.cell",
                                            "widgets.lab imports cli"]


def test_the_cycle_finder_names_each_circle(tmp_path):
    sources = _fake_package(tmp_path, {
        "__init__.py": "from . import posets\n",
        "posets.py": "def draw():\n    from .hasse import draw\n",
        "hasse.py": "from .posets import Poset\n",
        "data/__init__.py": "from .registry import load\n",
        "data/registry.py": "from . import idx\n",
        "data/idx.py": "from . import download\n",
        "data/download.py": "from lattice_lab.data.registry import Request\n",
        "data/sequences.py": "from .. import posets\n",
    })
    assert import_cycles(sources) == ["hasse -> posets -> hasse",
                                      "data.download -> data.registry -> data.idx -> data.download"]
    del sources["hasse"]
    assert import_graph(sources).has_edge("data.sequences", "posets") and len(import_cycles(sources)) == 1
