"""`chaosbus map`: the integration graph, read from the cluster and the experiment files.

- `cluster`: topics, consumer groups, members, lag (and what could not be read);
- `graph`: automations → topics → interposers → topics → services → stores, chokepoints;
- `render`: Graphviz layout, a self-contained HTML page with the SVG inline, a text form.
"""
