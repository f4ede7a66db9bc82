"""A training stage's loss figure: what a reviewer sees on it, read back from the figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from dlpipe.train.figures import Curves, cut_off, focus_range, loss_figure, plot_loss_curves

EMPTY = pd.DataFrame(columns=["epoch", "loss", "val_loss"])


def curve(val_loss: list[float], loss: list[float] | None = None, **extra: list[float]) -> pd.DataFrame:
    epochs = list(range(1, len(val_loss) + 1))
    return pd.DataFrame({"epoch": epochs, "loss": loss or [v - 0.01 for v in val_loss], "val_loss": val_loss, **extra})


# Like Spotify with Dropout: a first-epoch spike far above the band where the runs differ.
SPIKE = curve(
    [0.21, 0.205, 0.2, 0.196, 0.194, 0.193, 0.192, 0.192, 0.191],
    loss=[0.43, 0.25, 0.22, 0.2, 0.195, 0.19, 0.189, 0.188, 0.187],
)
FLAT = curve(
    [0.208, 0.2, 0.198, 0.199, 0.2, 0.202, 0.203, 0.204, 0.205],
    loss=[0.28, 0.2, 0.19, 0.185, 0.18, 0.175, 0.172, 0.17, 0.168],
)


@pytest.fixture
def figures():
    made = []

    def draw(*curves: Curves, title: str = "Spotify popularity: Dropout vs no Dropout"):
        fig = loss_figure(list(curves), title, "mean absolute error (MAE)")
        made.append(fig)
        return fig.axes[0]

    yield draw
    for fig in made:
        plt.close(fig)


def legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def crosses(ax) -> list[tuple[float, float]]:
    return [(float(x[0]), float(y[0])) for line in ax.lines if line.get_marker() == "x" for x, y in [line.get_data()]]


def test_the_y_axis_leaves_out_the_first_epochs_spike_and_says_so(figures):
    ax = figures(Curves("Dropout", SPIKE), Curves("no Dropout", FLAT))
    low, high = ax.get_ylim()
    # Every value after epoch 2 is shown; the spike (0.43, 0.28, 0.25) is not, and the legend says so.
    later = pd.concat([SPIKE, FLAT]).query("epoch > 2")[["loss", "val_loss"]].to_numpy()
    assert low <= later.min() and later.max() <= high < 0.25
    assert legend(ax) == ["Dropout", "no Dropout", "train", "validation", "off the axes: epochs 1–2 (up to 0.43)"]
    assert ax.get_ylabel() == "mean absolute error (MAE)"


def test_curves_without_a_spike_keep_every_value(figures):
    steady = curve([float(v) for v in range(40, 4, -3)])  # like BatchNormalization's fall from 40 to 5
    short = SPIKE.iloc[:6]  # too few epochs after the spike to tell where training settles
    for lines in ([Curves("BatchNormalization", steady)], [Curves("Dropout", short)]):
        ax = figures(*lines)
        low, high = ax.get_ylim()
        values = lines[0].frame[["loss", "val_loss"]].to_numpy()
        assert low <= values.min() and values.max() <= high
        assert not any(text.startswith("off the axes") for text in legend(ax))


def test_a_run_that_diverged_at_once_is_a_cross_at_its_epoch_with_a_note(figures):
    ax = figures(Curves("BatchNormalization", SPIKE), Curves("no BatchNormalization", EMPTY, diverged_at=1))
    (x, y), low_high = crosses(ax)[0], ax.get_ylim()
    assert x == 1 and low_high[0] < y <= low_high[1]  # on the axes, near their top
    assert [t.get_text() for t in ax.texts] == ["no BatchNormalization — diverged at epoch 1"]
    assert legend(ax)[:2] == ["BatchNormalization", "no BatchNormalization"]


def test_a_run_that_diverged_later_is_a_cross_at_its_last_finite_validation_loss(figures):
    ax = figures(Curves("no BatchNormalization", FLAT.iloc[:4], diverged_at=5))
    assert crosses(ax) == [(4.0, pytest.approx(FLAT["val_loss"].iloc[3]))]
    assert [t.get_text() for t in ax.texts] == ["no BatchNormalization — diverged at epoch 5"]


def test_nothing_finite_to_draw_is_said_instead_of_an_empty_range(figures):
    ax = figures(
        Curves("BatchNormalization", EMPTY, diverged_at=1), Curves("no BatchNormalization", EMPTY, diverged_at=1)
    )
    assert sorted(t.get_text() for t in ax.texts) == [
        "BatchNormalization — diverged at epoch 1",
        "no BatchNormalization — diverged at epoch 1",
        "no finite loss to draw",
    ]
    assert list(ax.get_yticks()) == [] and len(crosses(ax)) == 2


def test_several_seeds_are_named_in_the_title_or_per_curve(figures):
    three = SPIKE.assign(loss_std=0.01, val_loss_std=0.002, seeds=3)
    ax = figures(Curves("Dropout", three), Curves("no Dropout", FLAT.assign(loss_std=0.0, val_loss_std=0.0, seeds=3)))
    assert ax.get_title().endswith("mean of 3 seeds, band: ±1 standard deviation")
    # Three seeds, two of which diverged at once in one run: its curve is one seed's, the other's a mean.
    ax = figures(Curves("Dropout", three), Curves("no Dropout", FLAT.assign(loss_std=0.0, val_loss_std=0.0, seeds=1)))
    assert legend(ax)[:2] == ["Dropout (mean of 3 seeds)", "no Dropout (1 seed)"]
    assert ax.get_title().endswith("band: ±1 standard deviation over the seeds")


def test_the_png_is_the_same_bytes_for_the_same_curves(tmp_path):
    lines = [Curves("Dropout", SPIKE), Curves("no Dropout", EMPTY, diverged_at=1)]
    plot_loss_curves(lines, "t", "loss", tmp_path / "a.png")
    plot_loss_curves(lines, "t", "loss", tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        # The spike left out, a 5 % margin around the rest.
        ([(range(1, 8), [0.4, 0.25, 0.2, 0.19, 0.19, 0.19, 0.19])], (0.1895, 0.2005)),
        ([(range(1, 8), [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])], None),  # a steady fall: nothing to leave out
        ([(range(1, 7), [0.4, 0.2, 0.2, 0.2, 0.2, 0.2])], None),  # too few epochs after the spike
        ([(range(1, 8), [np.nan, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3])], None),  # nothing finite to cut off
    ],
)
def test_focus_range(series, expected):
    limits = focus_range(series)
    assert limits == (expected if expected is None else pytest.approx(expected))


def test_cut_off_names_the_epochs_and_the_furthest_value():
    assert cut_off([([1, 2, 3], [0.43, 0.25, 0.2])], 0.19, 0.22) == "off the axes: epochs 1–2 (up to 0.43)"
    assert cut_off([([1, 2, 3], [0.1, 0.2, 0.2])], 0.19, 0.22) == "off the axes: epoch 1 (down to 0.1)"
    assert cut_off([([1, 2], [0.2, 0.21])], 0.19, 0.22) is None
