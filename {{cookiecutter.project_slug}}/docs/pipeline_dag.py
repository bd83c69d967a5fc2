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

# The picture is drawn as wide as the page's text column (about 690 pixels in
# both builders' themes), so the browser shows it at its own size: the stage
# names stay as large as the text around them.
WIDTH_INCHES = 6.8
DPI = 100
FONT_SIZE = 15
# Room around each stage's name that an arrow does not enter, in points.
BOX_MARGIN = 48


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
    size = (WIDTH_INCHES, 1.4 + 0.9 * tallest)
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = figure.subplots()
    step: dict[str, int] = networkx.get_node_attributes(graph, "layer")
    # Straight arrows between neighbouring steps; an edge that skips a step
    # curves below the stages it passes.
    for skips, bend in ((False, "arc3"), (True, "arc3,rad=0.3")):
        networkx.draw_networkx_edges(
            graph,
            positions,
            edgelist=[
                (a, b) for a, b in graph.edges if (step[b] - step[a] > 1) == skips
            ],
            ax=axes,
            arrowstyle="-|>",
            arrowsize=20,
            width=1.5,
            edge_color="#555555",
            connectionstyle=bend,
            min_source_margin=BOX_MARGIN,
            min_target_margin=BOX_MARGIN,
        )
    box = {"boxstyle": "round,pad=0.6", "facecolor": "#e8eaf6", "edgecolor": "#3949ab"}
    networkx.draw_networkx_labels(
        graph, positions, ax=axes, font_size=FONT_SIZE, bbox=box
    )
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    axes.set_xlim(min(xs) - 0.25, max(xs) + 0.25)
    axes.set_ylim(min(ys) - 0.45, max(ys) + 0.3)
    axes.set_axis_off()
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
