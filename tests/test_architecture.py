"""The house rules of issue 12, checked on the source itself (ast, no imports executed).

- no import circle between qa's modules (every import counts, lazy ones inside functions too: a lazy
  import hides a circle from Python, not from the reader);
- the runtime path (engine, store, retrieve, answer, reader inference, embed, runtime) never reaches
  training or evaluation code, directly or through anything it imports;
- no module over 400 lines and no function over 60, unless the function says why ("longer than 60 lines"
  in its docstring or in a comment among its first lines).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qa"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
RUNTIME_ROOTS = ("qa.engine", "qa.store", "qa.retrieve", "qa.answer", "qa.reader.model", "qa.embed", "qa.runtime")
TRAINING_OR_EVAL = ("qa.eval", "qa.evaluate", "qa.reader.train", "qa.reader.data")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The qa module an imported name lives in (``qa.store.IndexStore`` -> ``qa.store``)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from qa.answer import compose`` imports the submodule when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            hit = resolve(target, known) if target.startswith("qa") else None
            if hit and hit != name:
                found.add(hit)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def is_under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == r or name.startswith(r + ".") for r in roots)


def test_the_package_has_no_import_circle() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_runtime_path_never_reaches_training_or_evaluation() -> None:
    edges = graph()
    offenders = {}
    for name in edges:
        if is_under(name, RUNTIME_ROOTS):
            bad = sorted(m for m in reachable(edges, name) if is_under(m, TRAINING_OR_EVAL))
            if bad:
                offenders[name] = bad
    assert not offenders, f"runtime modules reaching training/evaluation code: {offenders}"


def test_no_module_over_400_lines() -> None:
    long = {name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def says_why(node: ast.AST, lines: list[str]) -> bool:
    doc = ast.get_docstring(node) or ""
    head = "\n".join(lines[node.lineno - 1 : node.lineno + 8])
    return "longer than 60 lines" in (doc + head).lower()


def test_no_function_over_60_lines_without_a_reason() -> None:
    long = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not says_why(node, lines):
                    long.append(f"{name}.{node.name} ({length} lines)")
    assert not long, "functions over 60 lines without a comment saying why: " + ", ".join(long)


def test_the_checker_finds_a_circle() -> None:
    """The cycle finder itself: a circle of three, and none in a chain."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
