#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""dashboard_rules.py DASHBOARD.json - print the dashboard's queries as a
Prometheus rule file (one recording rule each), so that promtool check
rules parses every one of them: a query with a PromQL syntax error fails
make unit, not the operator's first look at the dashboard.

Grafana's variables are replaced by what they stand for in a query:
$instance by a regex, $__rate_interval and $__range by durations.
"""
import json
import sys

VARS = {"$__rate_interval": "5m", "$__range": "1d", "$instance": ".*"}


def queries(node, title=""):
    if isinstance(node, dict):
        title = node.get("title", title)
        if isinstance(node.get("expr"), str):
            yield title, node["expr"]
        for v in node.values():
            yield from queries(v, title)
    elif isinstance(node, list):
        for v in node:
            yield from queries(v, title)


def main(path):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    out = ["groups:", "  - name: dashboard", "    rules:"]
    n = 0
    for title, expr in queries(dash.get("panels", [])):
        for var, value in VARS.items():
            expr = expr.replace(var, value)
        if "$" in expr:
            sys.exit(f"{path}: panel {title!r}: unknown variable in {expr!r}")
        n += 1
        out.append(f"      - record: dashboard:query_{n}")
        out.append(f"        expr: {json.dumps(expr)}")
    if not n:
        sys.exit(f"{path}: no queries")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
