"""The import layering of the architecture, checked on the source with ``ast`` so that it stays true.

media → faces → features → models → fusion → pipeline, as data flows; in imports, each layer uses only
the layers below it (late fusion is plain arithmetic on model outputs, below the models that learn
its weights). Scoring and the leaderboard stand beside the stack: they use only the shared base (the
stack may write submissions with scoring's writers), and nothing but the CLI uses the leaderboard.
The CLI and the demo are on top: nothing in ``emi_core`` imports them. Imports under ``if
TYPE_CHECKING:`` are annotations only, not dependencies, and are not counted.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import emi_core

PACKAGE = Path(emi_core.__file__).parent

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"", "errors", "emotions", "channels", "atomic", "device", "progress", "result", "native_logs"}),
    frozenset({"media"}),
    frozenset({"faces", "speech", "dataset"}),
    frozenset({"features"}),
    frozenset({"fusion", "explanation"}),
    frozenset({"models"}),
    frozenset({"pipeline", "training", "inspection", "live", "render", "prediction", "submission"}),
    frozenset({"cli", "__main__"}),
)
"""Top-level parts of ``emi_core`` ("" is the package itself), lowest first."""

BESIDE: dict[str, frozenset[str]] = {
    "scoring": frozenset({"scoring"}) | LAYERS[0],
    "leaderboard": frozenset({"leaderboard", "scoring"}) | LAYERS[0],
}
"""Parts outside the stack, and all they may import."""

TOP = {"cli", "__main__"}


def part_of(module: str) -> str:
    """``emi_core.features.cache`` → ``features``; ``emi_core`` → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``…/emi_core/features/cache.py`` → ``emi_core.features.cache`` (a package is its ``__init__``)."""
    relative = path.relative_to(package.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def runtime_imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in ``path``, relative ones resolved, ``TYPE_CHECKING`` blocks skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append((node.lineno, ".".join([*base, node.module] if node.module else base)))
            else:
                found.append((node.lineno, node.module or ""))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def rank(part: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if part in layer), None)


def violations(package: Path = PACKAGE) -> list[str]:
    """One line per import that breaks the layering, in ``package`` (a copy of ``emi_core`` in a test)."""
    bad = []
    for path in sorted(package.rglob("*.py")):
        source = part_of(module_name(path, package))
        for line, target in runtime_imports(path, package):
            where = f"{path.relative_to(package.parent)}:{line} imports {target}"
            if target.split(".")[0] == "demo":
                bad.append(f"{where}: the demo is on top of the library")
                continue
            if target != "emi_core" and not target.startswith("emi_core."):
                continue
            imported = part_of(target)
            if imported == source or source in TOP:
                continue
            if source in BESIDE:
                if imported not in BESIDE[source]:
                    bad.append(f"{where}: {source} stands beside the stack")
            elif imported == "leaderboard" and source not in TOP:
                bad.append(f"{where}: only the CLI uses the leaderboard")
            elif imported in BESIDE:
                continue
            elif imported in TOP:
                bad.append(f"{where}: nothing in the library imports the CLI")
            elif rank(source) is None or rank(imported) is None:
                bad.append(f"{where}: add {source or imported!r} to a layer of this test")
            elif rank(imported) > rank(source):
                bad.append(f"{where}: upward import ({source} is below {imported})")
    return bad


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(module_name(path)) for path in PACKAGE.rglob("*.py")}
    placed = set().union(*LAYERS, BESIDE)
    assert parts - placed == set()


def test_no_upward_import_and_nothing_imports_the_cli_or_the_demo():
    assert violations() == []


@pytest.mark.parametrize(
    "source, target, expected",
    [
        ("emi_core/models/paper/serving.py", "emi_core.training.device", "upward import"),
        ("emi_core/media/probe.py", "emi_core.cli.media_options", "nothing in the library imports the CLI"),
        ("emi_core/scoring/score.py", "emi_core.media", "beside the stack"),
        ("emi_core/pipeline.py", "demo.app", "the demo is on top"),
        ("emi_core/pipeline.py", "emi_core.leaderboard", "only the CLI uses the leaderboard"),
    ],
)
def test_the_checker_catches_each_kind_of_violation(tmp_path, source, target, expected):
    """The rule can fail: one planted import of each kind is reported (on a copy of the package's sources)."""
    copy = tmp_path / "emi_core"
    for path in PACKAGE.rglob("*.py"):
        (copy / path.relative_to(PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy / path.relative_to(PACKAGE))
    planted = tmp_path / source
    planted.write_text(planted.read_text(encoding="utf-8") + f"\nimport {target}\n", encoding="utf-8")
    found = violations(copy)
    assert len(found) == 1 and expected in found[0] and target in found[0]
