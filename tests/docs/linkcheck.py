#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""linkcheck.py ROOT FILE... - the links of Markdown documents resolve.

For each FILE (README.md, doc/*.md):
  - a relative link, [text](path) or [id]: path, names a file or folder
    that exists, relative to the document (as GitHub renders it);
  - a link with an anchor, path.md#anchor or #anchor, names a heading of
    that document (GitHub's anchors: lower case, punctuation dropped,
    spaces to hyphens, -1, -2 ... for repeated headings);
  - a code span that is a path in the source tree (`daemon/engine.c`,
    `tests/e2e/offload.sh`: its first component is a top-level folder of
    ROOT) names a file or folder that exists, relative to ROOT; spans with
    a wildcard or a placeholder (`daemon/mode_*.c`, `<name>`) are skipped,
    and so are paths under build/, which make creates.
And README.md (when it is one of the FILEs) links every page of doc/:
each doc/*.md and each man page (doc/*.5, doc/*.8), so that no page of
the guide is left unreachable.
Links with a scheme (https:, mailto:) are not fetched: no network.
Fenced code blocks are skipped. Standard library only.

    linkcheck.py --self-test   proves each rule catches what it should.
"""
import os
import re
import sys
import tempfile

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE = re.compile(r"`([^`]+)`")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def slug(text):
    text = re.sub(r"`|\*\*|__|\[|\]\([^)]*\)", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def lines_outside_fences(text):
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None:
            yield n, line


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        found = set()
        with open(path, encoding="utf-8") as f:
            for _, line in lines_outside_fences(f.read()):
                m = HEADING.match(line)
                if not m:
                    continue
                s = slug(m.group(2))
                k = seen.get(s, 0)
                seen[s] = k + 1
                found.add(s if k == 0 else f"{s}-{k}")
        cache[path] = found
    return cache[path]


def top_folders(root):
    return {e for e in os.listdir(root)
            if os.path.isdir(os.path.join(root, e)) and not e.startswith(".")
            and e != "build"}


def check_file(root, path, tops):
    problems = []
    links = 0
    with open(path, encoding="utf-8") as f:
        text = f.read()
    here = os.path.dirname(path)
    for n, line in lines_outside_fences(text):
        targets = [m.group(1) for m in LINK.finditer(CODE.sub("", line))]
        m = REFDEF.match(line)
        if m:
            targets.append(m.group(1))
        for t in targets:
            if not t or SCHEME.match(t):
                continue
            links += 1
            file_part, _, anchor = t.partition("#")
            target = os.path.normpath(os.path.join(here, file_part)) if file_part else path
            if not os.path.exists(target):
                problems.append(f"{path}:{n}: link to {t}: {os.path.relpath(target, root)} does not exist")
                continue
            if anchor:
                if not target.endswith(".md") or os.path.isdir(target):
                    continue
                if anchor.lower() not in anchors(target):
                    problems.append(f"{path}:{n}: link to {t}: no heading with anchor #{anchor} "
                                    f"in {os.path.relpath(target, root)}")
        for m in CODE.finditer(line):
            span = m.group(1).strip()
            first = span.split("/", 1)[0]
            if ("/" not in span or first not in tops or re.search(r"[\s*?<>{}$]", span)):
                continue
            links += 1
            if not os.path.exists(os.path.join(root, span)):
                problems.append(f"{path}:{n}: `{span}` does not exist in the source tree")
    return links, problems


GUIDE_PAGE = re.compile(r"\.(md|[58])$")


def unlinked_pages(root, readme):
    """The pages of ROOT/doc that README links nowhere (relative links)."""
    doc = os.path.join(root, "doc")
    if not os.path.isdir(doc):
        return []
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    here = os.path.dirname(readme)
    linked = set()
    for _, line in lines_outside_fences(text):
        targets = [m.group(1) for m in LINK.finditer(CODE.sub("", line))]
        m = REFDEF.match(line)
        if m:
            targets.append(m.group(1))
        for t in targets:
            if t and not SCHEME.match(t):
                linked.add(os.path.normpath(os.path.join(here, t.partition("#")[0])))
    return [f"{readme}: doc/{name} is not linked from it"
            for name in sorted(os.listdir(doc))
            if GUIDE_PAGE.search(name) and os.path.normpath(os.path.join(doc, name)) not in linked]


def check(root, paths):
    tops = top_folders(root)
    total = 0
    problems = []
    for p in paths:
        n, probs = check_file(root, p, tops)
        total += n
        problems += probs
        if os.path.basename(p) == "README.md" and os.path.dirname(os.path.abspath(p)) == os.path.abspath(root):
            problems += unlinked_pages(root, p)
    for p in problems:
        print(p)
    if problems:
        print(f"linkcheck: {len(problems)} broken of {total} links and paths in {len(paths)} files")
        return 1
    print(f"linkcheck: {total} links and paths in {len(paths)} files, none broken")
    return 0


def self_test():
    cases = {
        # name: (README.md text, broken count)
        "good": ("# Top\n## Two words, here\n[a](doc/g.md) [b](doc/g.md#guide-part) "
                 "[c](#two-words-here) [d](https://example.org/x) `daemon/x.c` "
                 "`daemon/mode_*.c` `build/cc/tsnatd` [e](doc/)\n[r]: doc/g.md\n", 0),
        "missing file": ("[a](doc/nope.md)\n", 1),
        "missing ref file": ("[r]: doc/nope.md\n", 1),
        "missing anchor": ("[a](doc/g.md#nope)\n", 1),
        "missing own anchor": ("# Top\n[a](#bottom)\n", 1),
        "repeated heading": ("# A\n# A\n[x](#a-1) [y](#a-2)\n", 1),
        "missing code path": ("see `daemon/nope.c`\n", 1),
        "fenced block skipped": ("```\n[a](doc/nope.md) `daemon/nope.c`\n```\n", 0),
        "link in code span skipped": ("`[a](doc/nope.md)`\n", 0),
    }
    failed = 0
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "doc"))
        os.makedirs(os.path.join(root, "daemon"))
        with open(os.path.join(root, "daemon", "x.c"), "w") as f:
            f.write("")
        with open(os.path.join(root, "doc", "g.md"), "w") as f:
            f.write("# Guide part\n[up](../README.md)\n")
        readme = os.path.join(root, "README.md")
        for name, (text, want) in cases.items():
            anchors.__defaults__[0].clear()
            with open(readme, "w") as f:
                f.write(text)
            _, probs = check_file(root, readme, top_folders(root))
            if len(probs) != want:
                print(f"self-test: {name}: {len(probs)} broken, want {want}: {probs}")
                failed += 1
        # every page of doc/ linked from the README: g.md is, x.8 only
        # from a code span, h.md not at all
        for page in ("x.8", "h.md", "notes.txt"):
            with open(os.path.join(root, "doc", page), "w") as f:
                f.write("")
        with open(readme, "w") as f:
            f.write("[g](doc/g.md#guide-part) `[x](doc/x.8)`\n```\n[h](doc/h.md)\n```\n")
        probs = unlinked_pages(root, readme)
        want = [f"{readme}: doc/h.md is not linked from it", f"{readme}: doc/x.8 is not linked from it"]
        if probs != want:
            print(f"self-test: unlinked pages: {probs}, want {want}")
            failed += 1
        with open(readme, "w") as f:
            f.write("[g](doc/g.md) [h](./doc/h.md)\n[x]: doc/x.8\n")
        if unlinked_pages(root, readme):
            print(f"self-test: all pages linked: {unlinked_pages(root, readme)}")
            failed += 1
    print("linkcheck: self-test " + ("FAILED" if failed else f"passed ({len(cases) + 2} cases)"))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(check(sys.argv[1], sys.argv[2:]))
