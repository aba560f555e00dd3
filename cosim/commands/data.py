"""`cosim data`: list the known data sets, or load one and show what it holds."""

from __future__ import annotations

import argparse
import sys

NAME = "data"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `cosim data list` and `cosim data show NAME [--root DIR] [--seed N]`."""
    p = subparsers.add_parser(NAME, help="list data sets or show one")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    p_list = sub.add_parser("list", help="table of known data sets")
    p_list.set_defaults(func=_list)
    p_show = sub.add_parser("show", help="load a data set and summarise it")
    p_show.add_argument("name", help="data set name (see `cosim data list`)")
    p_show.add_argument("--root", default=None, help="folder holding the files of a file-based data set")
    p_show.add_argument("--seed", type=int, default=0, help="generation seed (procedural data sets)")
    p_show.set_defaults(func=_show)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _table(rows: list[list[str]]) -> str:
    """Left-aligned text table with a header row and a rule."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _list(args: argparse.Namespace) -> int:
    """Print the table of data sets."""
    from cosim.data import list_datasets

    rows = [["name", "shape", "classes", "train", "test", "needs --root", "source"]]
    for info in list_datasets():
        rows.append([info.name, "x".join(map(str, info.image_shape)), str(info.num_classes or "?"),
                     "?" if info.train_size is None else str(info.train_size),
                     "?" if info.test_size is None else str(info.test_size),
                     "yes" if info.needs_root else "no", info.source])
    print(_table(rows))
    return 0


def _show(args: argparse.Namespace) -> int:
    """Load one data set and print its sizes, classes and value range."""
    import numpy as np

    from cosim.data import load_dataset

    ds = load_dataset(args.name, root=args.root, seed=args.seed)
    counts = np.bincount(ds.y_train, minlength=ds.num_classes)
    print(f"{ds.name}: {ds.source}")
    print(f"  image shape {'x'.join(map(str, ds.image_shape))}, {ds.num_classes} classes, "
          f"train {len(ds.y_train)}, test {len(ds.y_test)}, "
          f"pixels in [{float(ds.x_train.min()):.3g}, {float(ds.x_train.max()):.3g}]")
    print("  train per class: " + ", ".join(f"{n}={c}" for n, c in zip(ds.class_names, counts)))
    if ds.boxes_train is not None:
        per_image = np.bincount([len(b) for b in ds.boxes_train])
        print("  boxes per image: " + ", ".join(f"{k}: {c}" for k, c in enumerate(per_image) if c))
    return 0
