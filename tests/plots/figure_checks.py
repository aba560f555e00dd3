"""Checks of a rendered figure that a reader would notice: repeated or overlapping tick labels, text cut
off at the figure's edge, a legend over the data."""

from __future__ import annotations


def _overlap(a, b, tol: float = 0.5) -> bool:
    return a.x0 < b.x1 - tol and b.x0 < a.x1 - tol and a.y0 < b.y1 - tol and b.y0 < a.y1 - tol


def _visible_ticklabels(ax, which: str):
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = sorted(axis.get_view_interval())
    out = []
    for tick in axis.get_major_ticks():
        label = tick.label1
        loc = tick.get_loc()
        if label.get_visible() and label.get_text() and lo - 1e-12 * abs(hi) <= loc <= hi + 1e-12 * abs(hi):
            out.append(label)
    return out


def problems(fig) -> list[str]:
    """Every readability problem of `fig` (empty if none), after drawing it."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    out = []
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    for k, ax in enumerate(axes):
        for which in ("x", "y"):
            labels = _visible_ticklabels(ax, which)
            texts = [t.get_text() for t in labels]
            if len(set(texts)) != len(texts):
                out.append(f"axes {k} {which}: repeated tick labels {texts}")
            boxes = [t.get_window_extent(renderer) for t in labels]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    if _overlap(boxes[i], boxes[j]):
                        out.append(f"axes {k} {which}: tick labels {texts[i]!r} and {texts[j]!r} overlap")
        for text in (ax.xaxis.label, ax.yaxis.label, ax.title, *_visible_ticklabels(ax, "x"),
                     *_visible_ticklabels(ax, "y")):
            if text.get_text() and text.get_visible():
                box = text.get_window_extent(renderer)
                if box.x0 < fig_box.x0 - 1 or box.x1 > fig_box.x1 + 1 or box.y0 < fig_box.y0 - 1 \
                        or box.y1 > fig_box.y1 + 1:
                    out.append(f"axes {k}: text {text.get_text()!r} outside the figure")
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    for leg in legends:
        box = leg.get_window_extent(renderer)
        if box.x0 < fig_box.x0 - 1 or box.x1 > fig_box.x1 + 1 or box.y0 < fig_box.y0 - 1 or box.y1 > fig_box.y1 + 1:
            out.append(f"legend {[t.get_text() for t in leg.get_texts()][:3]} outside the figure")
        for k, ax in enumerate(axes):
            if _overlap(box, ax.get_window_extent(renderer), tol=1.0):
                out.append(f"legend over the data of axes {k}")
    return out
