"""Lines of code of a package, counted one way before and after a change: non-blank lines that are
neither comments nor docstrings, in the package's ``.py`` files, at a git revision or in the working tree.

Run: ``python -m evals.loc ingest --rev <base>`` (both are printed: the revision's and the tree's).
"""

from __future__ import annotations

import argparse
import ast
import io
import subprocess
import tokenize

from core.settings import PROJECT_ROOT


def code_lines(source: str) -> int:
    """Non-blank lines holding code: comment-only lines and docstrings do not count."""
    skip: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            skip.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                            tokenize.ENDMARKER):
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - skip)


def count(package: str, rev: str | None = None) -> int:
    if rev is None:
        return sum(code_lines(p.read_text(encoding="utf-8")) for p in sorted((PROJECT_ROOT / package).rglob("*.py")))
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, package], cwd=PROJECT_ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    return sum(code_lines(subprocess.run(["git", "show", f"{rev}:{name}"], cwd=PROJECT_ROOT, check=True,
                                         capture_output=True, text=True).stdout)
               for name in names if name.endswith(".py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("packages", nargs="+")
    parser.add_argument("--rev", default="main", help="the revision to compare with (default: main)")
    args = parser.parse_args()
    for package in args.packages:
        before, after = count(package, args.rev), count(package)
        print(f"{package}/: {before} lines at {args.rev}, {after} now ({after - before:+d})")


if __name__ == "__main__":
    main()
