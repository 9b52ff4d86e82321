"""Structure figures of src/auroractl: the numbers the architecture is held to.

    python scripts/structure_report.py

Prints ops feature modules that import each other, `fmt == ...json` branches in
commands, the longest functions, and import cycles between auroractl modules.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PKG = SRC / "auroractl"
SHARED = "auroractl.ops.shared"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """auroractl modules imported anywhere in ``path`` (function bodies included)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    base = module_name(path).split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("auroractl")}
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                mod = ".".join(base[: len(base) - node.level + 1] + ([mod] if mod else []))
            if not mod.startswith("auroractl"):
                continue
            # `from pkg import sub` imports the submodule; `from mod import name`, the module.
            subs = {f"{mod}.{a.name}" for a in node.names} & known
            found |= subs or {mod}
            if len(subs) < len(node.names):
                found.add(mod)
    return found


def main() -> int:
    files = sorted(PKG.rglob("*.py"))
    modules = {module_name(f): f for f in files}
    graph = {
        name: {m for m in imports(f, set(modules)) if m in modules and m != name}
        for name, f in modules.items()
    }

    def feature(name: str) -> str | None:
        if not name.startswith("auroractl.ops.") or name.startswith(SHARED):
            return None
        return name.split(".")[2].removesuffix("_catalog")

    pairs = set()
    for src, targets in graph.items():
        for dst in targets:
            a, b = feature(src), feature(dst)
            if a and b and a != b:
                pairs.add((a, b))
    print(f"ops feature -> feature imports: {len(pairs)}")
    for a, b in sorted(pairs):
        print(f"  {a} -> {b}")

    branches = sum(
        len(re.findall(r"\bfmt(\.value)?\s*(==|!=|\bin\b)", f.read_text()))
        for f in (PKG / "commands").rglob("*.py")
    )
    print(f"format branches in commands: {branches}")

    longest = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                longest.append((node.end_lineno - node.lineno + 1, f"{module_name(f)}.{node.name}"))
    longest.sort(reverse=True)
    print("longest functions:")
    for n, name in longest[:5]:
        print(f"  {n:4d}  {name}")

    cycles = find_cycles(graph)
    print(f"import cycles: {len(cycles)}")
    for c in cycles:
        print("  " + " -> ".join(c))
    return 0


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
