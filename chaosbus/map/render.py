"""The map drawn: Graphviz's `dot` places the nodes; a self-contained HTML page and a text form.

`to_dot` writes the graph in DOT (left to right, one shape and colour per kind, chokepoints
with a thick red border and their reason), `dot -Tsvg` lays it out, and `to_html` puts
the SVG inline in one page that needs no network. `to_text` is the same content for a
terminal. A missing `dot` is one line naming the Debian package (exit 2).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

from chaosbus.errors import PrerequisiteMissing, StackError
from chaosbus.map.graph import KINDS, Graph, Kind

DOT_TIMEOUT_S = 60
STYLE: dict[Kind, str] = {
    "automation": 'shape=box style="rounded,filled" fillcolor="#dbeafe"',
    "topic": 'shape=cds style=filled fillcolor="#fef3c7"',
    "interposer": 'shape=hexagon style=filled fillcolor="#fed7aa"',
    "service": 'shape=box style=filled fillcolor="#dcfce7"',
    "store": 'shape=cylinder style=filled fillcolor="#e9d5ff"',
    "http": 'shape=hexagon style=filled fillcolor="#fde68a"',
    "unread": 'shape=note style="dashed,filled" fillcolor="#f3f4f6" fontcolor="#6b7280"',
}
TITLES: dict[Kind, str] = {
    "automation": "automations",
    "topic": "topics",
    "interposer": "interposers",
    "service": "services",
    "store": "stores",
    "http": "HTTP proxies",
    "unread": "not read",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dom_id(node_id: str) -> str:
    """The node's element id in the SVG: `topic:orders` → `map_topic_orders` (dot writes
    a `-` as an entity, so only letters, digits and `_`)."""
    return "map_" + "".join(c if c.isalnum() else "_" for c in node_id)


def to_dot(graph: Graph, title: str) -> str:
    lines = [
        "digraph handoffs {",
        "  rankdir=LR; newrank=true; nodesep=0.3; ranksep=0.5;",
        f"  tooltip={_quote(title)}; fontname=Helvetica;",
        "  node [fontname=Helvetica fontsize=14]; edge [fontname=Helvetica fontsize=11 "
        'color="#6b7280"];',
    ]
    for node in graph.nodes.values():
        label = node.label + (f"\n{node.detail}" if node.detail else "")
        extra = ""
        if node.chokepoint:
            label += f"\n⚠ {node.chokepoint}"
            extra = ' color="#dc2626" penwidth=3'
        lines.append(
            f"  {_quote(node.id)} [{STYLE[node.kind]}{extra} label={_quote(label)} "
            f"id={_quote(dom_id(node.id))} class={_quote(node.kind)}];"
        )
    for edge in graph.edges:
        lines.append(
            f"  {_quote(edge.source)} -> {_quote(edge.target)} [label={_quote(edge.label)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(dot_text: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise PrerequisiteMissing(
            "dot not found: install Graphviz (Debian: apt-get install graphviz) to draw the map"
        )
    done = subprocess.run(
        [dot, "-Tsvg"],
        input=dot_text,
        capture_output=True,
        text=True,
        timeout=DOT_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise StackError(f"dot could not lay out the map: {done.stderr.strip()[:200]}")
    svg = done.stdout
    return svg[svg.index("<svg") :]  # inline: no XML declaration, no DOCTYPE


def _fill(kind: Kind) -> str:
    found = re.search(r'fillcolor="([^"]+)"', STYLE[kind])
    return found.group(1) if found else "#ffffff"


def to_text(graph: Graph, title: str) -> str:
    lines = [title]
    for kind in KINDS:
        nodes = [n for n in graph.nodes.values() if n.kind == kind]
        if not nodes or kind == "unread":
            continue
        lines.append(f"{TITLES[kind]}:")
        for node in sorted(nodes, key=lambda n: n.label):
            mark = "!" if node.chokepoint else " "
            out = [
                f"{e.label} {graph.nodes[e.target].label}"
                for e in graph.edges
                if e.source == node.id
            ]
            detail = f" ({node.detail.replace(chr(10), ', ')})" if node.detail else ""
            lines.append(f" {mark} {node.label}{detail}" + (f" → {'; '.join(out)}" if out else ""))
    if graph.chokepoints:
        lines.append("chokepoints:")
        lines += [f"  ! {n.label}: {n.chokepoint}" for n in graph.chokepoints]
    unread = [n for n in graph.nodes.values() if n.kind == "unread"]
    if unread:
        lines.append("not read (drawn as far as read):")
        lines += [f"  ? {n.detail}" for n in unread]
    return "\n".join(lines) + "\n"


def to_html(graph: Graph, title: str) -> str:
    svg = to_svg(to_dot(graph, title))
    legend = "".join(
        f'<li class="{kind}"><span style="background:{_fill(kind)}"></span>'
        f"{html.escape(TITLES[kind])}</li>"
        for kind in KINDS
    )
    chokes = (
        "".join(
            f"<li><strong>{html.escape(n.label)}</strong>: {html.escape(n.chokepoint or '')}</li>"
            for n in graph.chokepoints
        )
        or "<li>none</li>"
    )
    unread = (
        "".join(
            f"<li>{html.escape(n.detail)}</li>" for n in graph.nodes.values() if n.kind == "unread"
        )
        or "<li>everything asked for was read</li>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #111827; }}
#map svg {{ max-width: 100%; height: auto; }}
ul.legend {{ padding: 0; }}
ul.legend li {{ display: inline-block; margin-right: 1.2em; list-style: none; }}
ul.legend span {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
  border: 1px solid #6b7280; vertical-align: middle; }}
pre {{ background: #f9fafb; padding: 1em; overflow-x: auto; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<ul class="legend">{legend}</ul>
<div id="map">{svg}</div>
<h2>Chokepoints</h2><ul id="chokepoints">{chokes}</ul>
<h2>Not read</h2><ul id="unread">{unread}</ul>
<h2>As text</h2><pre id="text">{html.escape(to_text(graph, title))}</pre>
</body></html>
"""
