"""Draw the DVC pipeline for the documentation (docs/pipeline.md runs it).

``pipeline_dag()`` returns a Markdown image of the stages of ``dvc.yaml``, left
to right in the order DVC runs them: the graph comes from ``dvc dag --dot``,
networkx lays it out and matplotlib draws it (all three come with the ``dev``
extra). The picture is embedded in the page as a ``data:`` URL, so it needs no
copying into the site and works with MkDocs and Zensical alike.

It lives with the documentation rather than in the package because it belongs
to the template (``cruft update`` keeps it current) and needs nothing from the
project's own code.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import warnings

import networkx
import pydot
from matplotlib.figure import Figure


def read_pipeline_graph() -> networkx.DiGraph[str]:
    """The stages of ``dvc.yaml`` and the order between them."""
    dot = subprocess.run(
        [sys.executable, "-m", "dvc", "dag", "--dot"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with warnings.catch_warnings():
        # pydot's parser uses pyparsing names that newer pyparsing deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed = pydot.graph_from_dot_data(dot)
    if not parsed:
        raise ValueError(f"`dvc dag --dot` printed no graph: {dot!r}")
    return networkx.DiGraph(networkx.nx_pydot.from_pydot(parsed[0]))


def draw_pipeline(graph: networkx.DiGraph[str]) -> bytes:
    """A PNG of the stages, one column per step of the run order."""
    layers = list(networkx.topological_generations(graph))
    for number, layer in enumerate(layers):
        for stage in layer:
            graph.nodes[stage]["layer"] = number
    positions = networkx.multipartite_layout(graph, subset_key="layer")
    tallest = max(len(layer) for layer in layers)
    size = (2.4 * len(layers), 0.8 + 0.9 * tallest)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    axes = figure.subplots()
    networkx.draw_networkx_edges(
        graph,
        positions,
        ax=axes,
        arrowstyle="-|>",
        arrowsize=16,
        edge_color="#555555",
        connectionstyle="arc3,rad=0.2",  # an edge that skips a stage curves round it
        min_source_margin=38,
        min_target_margin=38,
    )
    box = {"boxstyle": "round,pad=0.5", "facecolor": "#e8eaf6", "edgecolor": "#3949ab"}
    networkx.draw_networkx_labels(graph, positions, ax=axes, font_size=11, bbox=box)
    axes.set_axis_off()
    axes.margins(x=0.15, y=0.5)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def pipeline_dag() -> str:
    """The pipeline's stages as an embedded image, in Markdown."""
    graph = read_pipeline_graph()
    order = " → ".join(networkx.topological_sort(graph))
    alt = f"Pipeline stages in the order DVC runs them: {order}"
    png = base64.b64encode(draw_pipeline(graph)).decode("ascii")
    return f"![{alt}](data:image/png;base64,{png})"
