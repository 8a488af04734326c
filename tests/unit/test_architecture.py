"""The layout's import rules, read from the code itself.

Dependencies point down: web, console, cli -> features (answers, participation,
reports, scheduler) -> conversation, pipeline -> channels, storage -> core.
Nothing imports upwards, nothing goes round in a circle, the channel adapters and
the answer engine touch neither storage nor Flask, and only bot.storage speaks SQL.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAYERS = {
    "bot.core": 0,
    "bot.channels": 1,
    "bot.storage": 1,
    "bot.pipeline": 2,
    "bot.conversation": 2,
    "bot.answers": 3,
    "bot.participation": 3,
    "bot.reports": 3,
    "bot.handoff": 3,
    "bot.posts": 3,
    "scheduler": 3,
    "bot.web": 4,
    "bot.console": 4,
    "bot.cli": 4,
}
# packages that may not import these (besides the layer rule)
FORBIDDEN = {
    "bot.channels": ("bot.storage", "flask"),
    "bot.answers": ("bot.storage", "flask"),
    "bot.core": ("flask",),
    "bot.storage": ("flask",),
    "bot.pipeline": ("flask",),
    "bot.conversation": ("flask",),
    "scheduler": ("flask",),
    "bot.handoff": ("flask",),
    "bot.posts": ("flask",),
}
# The matcher's full-text index is an in-memory SQLite FTS5 table built from the content
# bank (never the app's database): the one place outside bot.storage allowed to use SQL.
IN_MEMORY_INDEX = {"bot/answers/matcher.py"}
SQL = re.compile(r"""["'](?:\s*)(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (?:TABLE|INDEX)|PRAGMA)\b""")


def modules() -> dict[str, Path]:
    found = {}
    for base in ("bot", "scheduler"):
        for path in (ROOT / base).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def package_of(module: str) -> str | None:
    for pkg in sorted(LAYERS, key=len, reverse=True):
        if module == pkg or module.startswith(pkg + "."):
            return pkg
    return None


def imports_of(path: Path, module: str, known: set[str] = frozenset()) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative
                base = module.split(".")[: -node.level] if not path.name == "__init__.py" else module.split(".")[: len(module.split(".")) - node.level + 1]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            names = {f"{target}.{alias.name}" for alias in node.names}
            out.update(names)
            if not names & known:  # "from pkg import module" depends on the module, not on pkg's __init__
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        for target in imports_of(path, name, set(mods)):
            if target in mods and target != name:
                edges[name].add(target)
            elif target.split(".")[0] in ("flask", "werkzeug"):
                edges[name].add(target.split(".")[0])
    return edges


def test_no_module_imports_a_higher_layer():
    wrong = []
    for module, targets in graph().items():
        pkg = package_of(module)
        if pkg is None:
            continue
        for target in targets:
            other = package_of(target)
            if other is not None and other != pkg and LAYERS[other] > LAYERS[pkg]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_packages_keep_out_of_what_they_must_not_know():
    wrong = []
    for module, targets in graph().items():
        pkg = package_of(module)
        for target in targets:
            if any(target == f or target.startswith(f + ".") for f in FORBIDDEN.get(pkg or "", ())):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_circles_between_packages_or_modules():
    edges = graph()
    pkg_edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in edges.items():
        for target in targets:
            a, b = package_of(module), package_of(target)
            if a and b and a != b:
                pkg_edges[a].add(b)

    def cycles(adj: dict[str, set[str]]) -> list[list[str]]:
        found, state, stack = [], {}, []

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for nxt in sorted(adj.get(node, ())):
                if state.get(nxt) == 1:
                    found.append(stack[stack.index(nxt):] + [nxt])
                elif nxt not in state:
                    visit(nxt)
            stack.pop()
            state[node] = 2

        for node in sorted(adj):
            if node not in state:
                visit(node)
        return found

    assert cycles(pkg_edges) == []
    assert cycles({m: {t for t in ts if t not in ("flask", "werkzeug")} for m, ts in edges.items()}) == []


def test_only_the_storage_package_writes_sql():
    wrong = []
    for module, path in modules().items():
        if package_of(module) == "bot.storage" or str(path.relative_to(ROOT)) in IN_MEMORY_INDEX:
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line):
                wrong.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()[:80]}")
    assert wrong == []


def test_no_code_outside_storage_touches_a_connection():
    wrong = []
    for module, path in modules().items():
        if package_of(module) == "bot.storage" or str(path.relative_to(ROOT)) in IN_MEMORY_INDEX:
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (".db.conn", ".db.execute", "sqlite3.connect", "._rows(", "._write(", "._row("):
            if needle in text:
                wrong.append(f"{path.relative_to(ROOT)}: {needle}")
    assert wrong == []


def test_no_file_over_400_lines_and_no_function_over_60_outside_migrations():
    wrong = []
    for module, path in sorted(modules().items()) + [("app", ROOT / "app.py")]:
        if module.endswith("migrations"):
            continue
        source = path.read_text(encoding="utf-8")
        if len(source.splitlines()) > 400:
            wrong.append(f"{path.relative_to(ROOT)}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert wrong == []
