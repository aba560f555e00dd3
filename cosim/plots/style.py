"""House style of every cosim figure: paper-sized fonts, palettes that stay distinct for 20 series, tick
formatters that never repeat a label, legends outside the data, and saving as PNG, PDF or SVG.

Sizes follow a two-column paper (IEEE/ACM): a column is 3.5 in wide, the page 7.16 in; text is 8 pt,
ticks and legends 7 pt, so a figure printed at its own width needs no scaling.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

from cosim.errors import CosimError

COLUMN_IN = 3.5  # one column of a two-column paper, inches
PAGE_IN = 7.16  # both columns
FORMATS = ("png", "pdf", "svg")
RC = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "legend.title_fontsize": 7, "figure.titlesize": 9, "lines.linewidth": 1.2,
    "lines.markersize": 4, "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5,
    "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
    "pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType in PDFs: editable, accepted by paper checkers
    "svg.fonttype": "path",  # SVG text as paths: renders the same without the font installed
    "axes.formatter.useoffset": False, "axes.formatter.limits": (-4, 5),
}
LINESTYLES = ("-", "--", "-.", ":")


@dataclass(frozen=True)
class FigureFormat:
    """How figures are written: file format and raster resolution (PNG only; PDF and SVG are vector)."""

    fmt: str = "png"
    dpi: int = 200

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise CosimError(f"--format {self.fmt!r}: choose one of {', '.join(FORMATS)}")
        if not 30 <= self.dpi <= 1200:
            raise CosimError(f"--dpi {self.dpi}: must be between 30 and 1200")


DEFAULT_FORMAT = FigureFormat()


@contextmanager
def paper_style() -> Iterator[None]:
    """Matplotlib settings of every cosim figure, for the duration of the block."""
    with plt.rc_context(RC):
        yield


def palette(n: int) -> list:
    """`n` colours that stay distinguishable: tab10 up to 10, tab20 (dark shades first) up to 20, then
    evenly spaced hues of a perceptual map (pair them with `linestyle` beyond 20)."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    if n <= 20:
        cmap = plt.get_cmap("tab20")
        order = [*range(0, 20, 2), *range(1, 20, 2)]
        return [cmap(order[i]) for i in range(n)]
    cmap = plt.get_cmap("turbo")
    return [cmap(0.05 + 0.9 * i / (n - 1)) for i in range(n)]


def linestyle(i: int, n: int) -> str:
    """Solid for the first ten series; dashed styles mark the pale half of tab20 and beyond."""
    return LINESTYLES[(i // 10) % len(LINESTYLES)] if n > 10 else "-"


def width_for(series: int) -> float:
    """Figure width: one column for a few series, the page for many (their legend needs room)."""
    return COLUMN_IN if series <= 4 else PAGE_IN


class DistinctFormatter(ticker.Formatter):
    """Plain numbers with the fewest significant digits that keep every visible label distinct
    (never `7.21094×10²` printed over itself); powers of ten as `10^k` outside 1e-3..1e5."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.format_ticks([x])[0] if pos is None else self._labels().get(pos, "")

    def _labels(self) -> dict[int, str]:
        return dict(enumerate(self.format_ticks(list(self.locs))))

    def format_ticks(self, values) -> list[str]:
        values = [float(v) for v in values]
        for digits in range(1, 8):
            labels = [_number(v, digits) for v in values]
            if len(set(labels)) == len(labels):
                return labels
        return labels


def _number(v: float, digits: int) -> str:
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    mag = math.log10(abs(v))
    if -3 <= mag < 5:
        text = f"{v:.{digits}g}"
        return text if "e" not in text else f"{v:.{max(0, digits - 1 - math.floor(mag))}f}"
    exp = math.floor(mag)
    mant = v / 10 ** exp
    m = f"{mant:.{digits}g}"
    return f"$10^{{{exp}}}$" if m == "1" else f"${m}\\times10^{{{exp}}}$"


def tidy_axis(ax, axis: str = "y", nbins: int = 6) -> None:
    """Readable ticks on one axis: log axes span whole decades with labelled decades only (at least
    two), linear axes get at most `nbins` nice ticks; every label is distinct."""
    a = ax.yaxis if axis == "y" else ax.xaxis
    if a.get_scale() == "log":
        lo, hi = (ax.get_ylim() if axis == "y" else ax.get_xlim())
        lo, hi = max(lo, 1e-300), max(hi, 1e-300)
        lo_d, hi_d = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        if hi_d - lo_d < 1:
            hi_d = lo_d + 1
        (ax.set_ylim if axis == "y" else ax.set_xlim)(10.0 ** lo_d, 10.0 ** hi_d)
        step = max(1, math.ceil((hi_d - lo_d) / 6))
        a.set_major_locator(ticker.LogLocator(base=10.0 ** step, numticks=12))
        a.set_minor_locator(ticker.LogLocator(base=10.0, subs=np.arange(2, 10), numticks=12))
        a.set_major_formatter(ticker.LogFormatterSciNotation())
        a.set_minor_formatter(ticker.NullFormatter())
    elif a.get_scale() == "linear":
        a.set_major_locator(ticker.MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
        a.set_major_formatter(DistinctFormatter())


def log_if_wide(values, threshold: float = 30.0) -> str:
    """'log' when the positive values span more than `threshold` (a ratio), else 'linear'."""
    pos = np.asarray(values, dtype=float)
    pos = pos[np.isfinite(pos) & (pos > 0)]
    return "log" if len(pos) >= 2 and pos.max() / pos.min() > threshold else "linear"


def legend_outside(fig, ax=None, where: str = "below", title: str | None = None, **kwargs) -> None:
    """A figure legend below (default) or beside the axes, never over the data; constrained layout
    makes room, and a legend below grows the figure by its rows so the axes keep their height. Nothing
    if nothing was labelled."""
    axes = [ax] if ax is not None else fig.axes
    handles, labels = [], []
    for a in axes:
        for h, lab in zip(*a.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if not handles:
        return
    if where == "below":  # as many columns as fit the figure's width (7 pt text: ~3.6 pt a character)
        per_entry_pt = 3.6 * max(len(lab) for lab in labels) + 30
        ncol = max(1, min(len(labels), int(fig.get_figwidth() * 72 // per_entry_pt)))
        rows = math.ceil(len(labels) / ncol) + (1 if title else 0)
        fig.set_figheight(fig.get_figheight() + 0.14 * rows + 0.1)
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, title=title, **kwargs)
    else:
        ncol = 1 if len(labels) <= 12 else 2
        fig.legend(handles, labels, loc="outside right upper", ncol=ncol, title=title, **kwargs)


def new_figure(width_in: float, height_in: float, *args, **kwargs):
    """`plt.subplots` with constrained layout (room for outside legends and long labels)."""
    return plt.subplots(*args, figsize=(width_in, height_in), layout="constrained", **kwargs)


def save(fig, path: Path, form: FigureFormat = DEFAULT_FORMAT) -> Path:
    """Write `fig` to `path` with the format's suffix (replacing a .png/.pdf/.svg one); close it; return
    the path."""
    path = Path(path)
    path = path.with_suffix("." + form.fmt) if path.suffix[1:] in FORMATS else path.with_name(
        f"{path.name}.{form.fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=form.fmt, dpi=form.dpi)
    plt.close(fig)
    return path


def to_bytes(fig, form: FigureFormat) -> bytes:
    """The figure encoded in the format (for inlining in a report); closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format=form.fmt, dpi=form.dpi)
    plt.close(fig)
    return buf.getvalue()
