"""The drift report as one self-contained HTML file: a verdict, a table, and a plot per drifted feature."""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np
import pandas as pd

from .windows import PREDICTION

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #1f2933; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #d9e2ec; padding: 0.35rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.drifted td { background: #ffe3e3; font-weight: 600; }
.verdict { padding: 0.8rem 1rem; border-radius: 6px; font-size: 1.1rem; }
.verdict.drift { background: #ffe3e3; } .verdict.stable { background: #e3f9e5; }
figure { margin: 1.5rem 0; } figcaption { font-size: 0.9rem; color: #52606d; }
"""


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()[buffer.getvalue().index("<svg") :]


def distribution_plot(name: str, reference: pd.Series, current: pd.Series, result: dict[str, Any]) -> str:
    """Reference against current: overlaid densities for numbers, side-by-side shares for categories."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 3))
    if result["kind"] == "categorical":
        categories = list(result["reference_shares"])
        positions = np.arange(len(categories))
        axes.bar(positions - 0.2, list(result["reference_shares"].values()), 0.4, label="reference")
        axes.bar(positions + 0.2, list(result["current_shares"].values()), 0.4, label="current")
        axes.set_xticks(positions, categories)
        axes.set_ylabel("share")
    else:
        reference, current = reference.dropna(), current.dropna()  # the windows may differ in length
        values = np.concatenate([reference.to_numpy(float), current.to_numpy(float)])
        edges = np.histogram_bin_edges(values, bins=40)
        axes.hist(reference, bins=edges, density=True, alpha=0.55, label="reference")
        axes.hist(current, bins=edges, density=True, alpha=0.55, label="current")
        axes.set_ylabel("density")
    axes.set_title(f"{name}: PSI {result['psi']:.3f}, p = {result['p_value']:.2g}")
    axes.legend()
    svg = _svg(figure)
    plt.close(figure)
    return svg


def _row(name: str, result: dict[str, Any]) -> str:
    cells = [
        html.escape(name),
        result["test"],
        f"{result['statistic']:.4f}",
        f"{result['p_value']:.3g}",
        f"{result['psi']:.4f}",
        "yes" if result["drifted"] else "no",
    ]
    css = ' class="drifted"' if result["drifted"] else ""
    return f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def render_html(report: dict[str, Any], reference: pd.DataFrame, current: pd.DataFrame, title: str) -> str:
    """Everything inline (styles, SVG plots): the file can be attached to a ticket or a CI run."""
    results = dict(report["features"])
    if report["prediction"]:
        results[PREDICTION] = report["prediction"]
    drifted = [name for name, result in results.items() if result["drifted"]]
    verdict = f"Drift detected in {', '.join(drifted)}" if report["drifted"] else "No drift: every feature is stable"
    thresholds = report["thresholds"]
    plots = "".join(
        f"<figure>{distribution_plot(name, reference[name], current[name], results[name])}"
        f"<figcaption>{html.escape(name)}: reference {report['reference_rows']:,} rows, "
        f"current {report['current_rows']:,} rows</figcaption></figure>"
        for name in drifted
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="verdict {"drift" if report["drifted"] else "stable"}">{html.escape(verdict)}</p>
<p>A feature drifts when its test gives p &lt; {thresholds["p_value"]} and its population stability index
reaches {thresholds["min_psi"]}. Reference: {report["reference_rows"]:,} training rows; current window:
{report["current_rows"]:,} rows ({html.escape(str(report.get("current_source", "")))}).</p>
<table><thead><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th><th>PSI</th><th>drifted</th></tr>
</thead><tbody>{"".join(_row(name, result) for name, result in results.items())}</tbody></table>
{plots}
</body></html>
"""
