"""Small hand-made Vega-Lite specs and DVC answers, shaped like the ones DVC prints."""

from __future__ import annotations

V5 = "https://vega.github.io/schema/vega-lite/v5.json"


def line_spec(title: str = "tiny loss curves", series: tuple[str, ...] = ("loss", "val_loss")) -> dict:
    """A line chart, one line per series, three epochs, values as strings (as DVC gives them), v5 $schema."""
    values = [
        {"epoch": str(epoch), "value": str(round(0.5 + 0.1 * k - 0.05 * epoch, 3)), "series": name}
        for k, name in enumerate(series)
        for epoch in (1, 2, 3)
    ]
    return {
        "$schema": V5,
        "title": title,
        "data": {"values": values},
        "mark": "line",
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epoch"},
            "y": {"field": "value", "type": "quantitative", "title": "loss"},
            "color": {"field": "series", "type": "nominal"},
        },
    }


def dvc_answer(plot_ids: dict[str, list[str]], stage_level: tuple[str, ...] = ("plots/a.csv",)) -> dict:
    """What `dvc plots diff --json` prints: top-level plots (id -> revisions), stage-level ones, an image."""
    data: dict[str, list[dict]] = {}
    for plot_id, revisions in {**plot_ids, **{path: ["workspace"] for path in stage_level}}.items():
        spec = line_spec(title=plot_id)
        data[plot_id] = [{"type": "vega", "revisions": revisions, "content": spec}]
    data["plots/loss.png"] = [{"type": "image", "revisions": ["workspace"], "url": "plots/loss.png"}]
    return {"data": data}
