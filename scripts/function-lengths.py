#!/usr/bin/env python3
"""Lists every Rust function in the given folders longer than a limit (default 60 lines, from
its `fn` line to its closing brace) and exits 1 if there is one. Strings, raw strings, chars and
comments are skipped when matching braces. Used by .ci/run: "a function that scrolls is two
functions" (the project's style guide)."""

import re
import sys
from pathlib import Path

FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def code_only(text: str) -> str:
    """`text` with the insides of comments and literals blanked, newlines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i : j + 1]))
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.|[^\\'])'", text[i:])):
            out.append(" " * m.end())
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path: Path, limit: int):
    code = code_only(path.read_text())
    for match in FN.finditer(code):
        open_at = code.find("{", match.end())
        semicolon = code.find(";", match.end())
        if open_at < 0 or (0 <= semicolon < open_at):
            continue  # a declaration without a body
        depth, j = 0, open_at
        while j < len(code):
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            if depth == 0:
                break
            j += 1
        first = code.count("\n", 0, match.start()) + 1
        last = code.count("\n", 0, j) + 1
        if last - first + 1 > limit:
            yield first, match.group(1), last - first + 1


def main() -> int:
    limit = 60
    roots = [Path(arg) for arg in sys.argv[1:]] or [Path("src")]
    found = [
        (path, line, name, length)
        for root in roots
        for path in sorted(root.rglob("*.rs"))
        for line, name, length in long_functions(path, limit)
    ]
    for path, line, name, length in found:
        print(f"{path}:{line}: fn {name} is {length} lines (limit {limit})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
