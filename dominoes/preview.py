"""A grid PNG of dominoes, to look at what a mixture really contains (MNIST-side half on top)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dominoes.dataset import KIND_NAMES, DominoSet
from slt.clikit import check_output_path, save_figure


def save_preview(ds: DominoSet, path: str | Path, n: int = 32, columns: int = 8,
                 class_names: tuple[str, ...] | None = None, title: str | None = None) -> Path:
    """Write the first ``n`` dominoes of ``ds`` as a grid PNG; each captioned "label / kind".

    A half that shows a wrong class is captioned with the class it shows (e.g. "m:3"). Returns the path.
    """
    from matplotlib.figure import Figure  # no pyplot: leaves the user's backend and figure registry alone

    check_output_path(path, "preview")
    n = min(n, len(ds))
    if n == 0:
        raise ValueError("nothing to preview: the set is empty")
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig = Figure(figsize=(1.3 * columns, 2.5 * rows + (0.4 if title else 0)))
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(np.transpose(ds.images[i], (1, 2, 0)), interpolation="nearest")
        label = int(ds.labels[i])
        name = class_names[label] if class_names else str(label)
        caption = f"{name} / {KIND_NAMES[int(ds.kind[i])]}"
        wrong = [f"{side}:{int(c)}" for side, c in (("m", ds.mnist_class[i]), ("c", ds.cifar_class[i]))
                 if c >= 0 and c != label]
        if wrong:
            caption += "\n" + " ".join(wrong)
        ax.set_title(caption, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, "preview", dpi=110)
