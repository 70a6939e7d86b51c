#!/usr/bin/env python3
"""Prints the import circles among the crate's modules (by the `crate::` and `super::` paths
each file names) and exits 1 if there is one. A child naming its parent (`super::unix_now`) is
not counted: a module and its own submodules are one unit. Used by .ci/run to keep the layers
of the README's code tour: state at the bottom of the server, fetch -> refresh -> store in the
browser."""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def module_of(file: Path, src: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "mod"):
        parts.pop()
    if parts and parts[-1] == "browser_twin":
        parts[-1] = "browser"  # `#[path]`-mounted as `client::browser` on the server
    return tuple(parts)


def edges(src: Path):
    modules = {module_of(f, src): f for f in src.rglob("*.rs")}
    for module in modules:
        if module:
            yield module[:-1], module  # a parent uses the children it declares
    for module, file in modules.items():
        text = re.sub(r"//[^\n]*", "", file.read_text())
        for root, rest in PATH.findall(text):
            names = rest.strip(":").split("::")
            base = () if root == "crate" else module[:-1]
            while names and names[0] == "super":
                base, names = base[:-1], names[1:]
            target = base + tuple(names)
            while target and target not in modules:
                target = target[:-1]
            if target and target != module and module[: len(target)] != target:
                yield module, target


def cycles(graph: dict) -> list:
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    graph: dict = {}
    for a, b in edges(src):
        graph.setdefault(a, set()).add(b)
    found = cycles(graph)
    for component in found:
        print(f"an import circle of {len(component)} modules: " + ", ".join("::".join(m) for m in component))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
