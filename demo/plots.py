"""Plotly figures of the app, styled to read well on light and dark themes alike.

Backgrounds are transparent and text / grid colours are mid-grey, so the figures sit on whatever
background the Gradio theme draws. Every function takes plain data (mappings, arrays) and returns a
``plotly.graph_objects.Figure``; none of them computes anything beyond layout.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from emi_core.emotions import EMOTIONS

TEXT_COLOUR = "#7f7f7f"
GRID_COLOUR = "rgba(127, 127, 127, 0.35)"
TRANSPARENT = "rgba(0, 0, 0, 0)"

CHANNEL_COLOURS: dict[str, str] = {"visual": "#3b82f6", "audio": "#f59e0b", "text": "#10b981", "fused": "#ec4899"}
"""Mid-luminance colours that keep their contrast on white and on near-black backgrounds."""

CUE_GROUP_COLOURS: dict[str, str] = {
    "expression": "#6366f1",
    "action units": "#06b6d4",
    "voice": "#f59e0b",
    "what is said": "#84cc16",
    "valence": "#f43f5e",
}
"""Colours of the EMI prior's cue groups in the "why this number" chart (other groups get grey)."""

EMOTION_COLOURS: dict[str, str] = dict(
    zip(EMOTIONS, ("#3b82f6", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#ec4899"), strict=True)
)


def _style(fig: go.Figure, title: str, height: int, legend_right: bool = False) -> go.Figure:
    legend = (
        {"orientation": "v", "yanchor": "top", "y": 1.0, "xanchor": "left", "x": 1.02}
        if legend_right
        else {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "center", "x": 0.5}
    )
    fig.update_layout(
        template="none",
        title={"text": title, "x": 0.5, "xanchor": "center"},
        height=height,
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
        font={"color": TEXT_COLOUR, "size": 13},
        legend=legend,
        margin={"l": 50, "r": 30, "t": 60, "b": 50},
    )
    return fig


def _axes(fig: go.Figure) -> go.Figure:
    grid = {"gridcolor": GRID_COLOUR, "linecolor": GRID_COLOUR, "zerolinecolor": GRID_COLOUR}
    fig.update_xaxes(**grid)
    fig.update_yaxes(**grid)
    return fig


RADAR_SCALES: tuple[float, ...] = (0.5, 1.0)
"""Radial ranges of the radar: the smallest that holds every value (typical intensities are 0.1–0.4)."""


def radar_scale(channels: Mapping[str, Mapping[str, float] | None]) -> float:
    """The radar's radial range for these values: 0.5 while they all fit, else 1."""
    top = max((float(v) for values in channels.values() if values for v in values.values()), default=0.0)
    return next((scale for scale in RADAR_SCALES if top <= scale * 0.95), RADAR_SCALES[-1])


def _translucent(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def radar_figure(
    channels: Mapping[str, Mapping[str, float] | None], title: str, absent: Mapping[str, str] | None = None
) -> go.Figure:
    """Radar chart of the six intensities, one closed trace per channel, on a 0–0.5 or 0–1 scale
    (:func:`radar_scale`, named in the title).

    ``channels`` maps a channel name (``visual``, ``audio``, ``fused``) to ``{emotion: value}``. Every
    trace has a faint fill and a solid line, the fused one drawn last and thickest, so none hides
    another. A channel that is ``None`` is listed, greyed out, in the legend as "(no input)" or as
    ``absent[channel]`` (e.g. "not in this model"), with no shape.
    """
    theta = [*EMOTIONS, EMOTIONS[0]]
    scale = radar_scale(channels)
    # an empty trace keeps the polar axes when no channel is given (plotly would draw x/y axes)
    fig = go.Figure(go.Scatterpolar(r=[None] * len(theta), theta=theta, showlegend=False, hoverinfo="skip"))
    for name, values in channels.items():
        colour = CHANNEL_COLOURS.get(name, TEXT_COLOUR)
        if values is None:
            fig.add_trace(
                go.Scatterpolar(
                    r=[None] * len(theta),
                    theta=theta,
                    name=f"{name} ({(absent or {}).get(name, 'no input')})",
                    line={"color": colour},
                    visible="legendonly",
                )
            )
            continue
        r = [float(values[emotion]) for emotion in EMOTIONS]
        fused = name == "fused"
        fig.add_trace(
            go.Scatterpolar(
                r=[*r, r[0]],
                theta=theta,
                name=name,
                mode="lines+markers",
                line={"color": colour, "width": 3.5 if fused else 2},
                marker={"size": 7 if fused else 5},
                fill="toself",
                fillcolor=_translucent(colour, 0.16 if fused else 0.08) if colour.startswith("#") else None,
                hovertemplate="%{theta}: %{r:.3f}<extra>" + name + "</extra>",
            )
        )
    ticks = [round(scale * k / 5, 2) for k in range(1, 6)]
    fig.update_layout(
        polar={
            "bgcolor": TRANSPARENT,
            "radialaxis": {
                "range": [0, scale],
                "tickvals": ticks,
                "ticktext": [f"{t:g}" for t in ticks],
                "gridcolor": GRID_COLOUR,
                "linecolor": GRID_COLOUR,
                "tickfont": {"size": 11},
                "angle": 60,
                "tickangle": 60,
            },
            "angularaxis": {
                "categoryarray": list(EMOTIONS),
                "categoryorder": "array",
                "direction": "clockwise",
                "rotation": 90,
                "gridcolor": GRID_COLOUR,
                "linecolor": GRID_COLOUR,
                "tickfont": {"size": 13},
            },
        }
    )
    fig = _style(fig, f"{title} · scale 0–{scale:g}", height=460)
    fig.update_layout(margin={"l": 80, "r": 80, "t": 70, "b": 60}, title={"font": {"size": 14}})
    return fig


def timeline_figure(times: np.ndarray, values: np.ndarray, title: str) -> go.Figure:
    """Intensities over time: ``values`` is ``(T, 6)`` in challenge order at ``times`` (seconds), y in 0–1."""
    fig = go.Figure()
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float).reshape(len(times), len(EMOTIONS))
    for i, emotion in enumerate(EMOTIONS):
        fig.add_trace(
            go.Scatter(
                x=times,
                y=values[:, i],
                name=emotion,
                mode="lines+markers" if len(times) < 3 else "lines",
                line={"color": EMOTION_COLOURS[emotion], "width": 2},
                hovertemplate="%{x:.2f} s: %{y:.3f}<extra>" + emotion + "</extra>",
            )
        )
    fig.update_xaxes(title_text="time (s)")
    fig.update_yaxes(title_text="intensity", range=[0, 1])
    return _axes(_style(fig, title, height=380, legend_right=True))


def message_figure(text: str) -> go.Figure:
    """An empty figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, "", height=200)


def action_units_figure(means: Mapping[str, float | None], titles: Mapping[str, str], title: str) -> go.Figure:
    """Horizontal bars of the clip-mean Action Unit intensities (0–1), each labelled with its code and
    name ("AU12 Lip Corner Puller"), in code order from the top; AUs never seen (``None``) are left out."""
    shown = [(name, value) for name, value in means.items() if value is not None]
    labels = [f"{name} {titles.get(name, '')}".strip() for name, _ in shown]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=[value for _, value in shown],
            orientation="h",
            marker={"color": CHANNEL_COLOURS["visual"]},
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="mean intensity", range=[0, 1])
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _axes(_style(fig, title, height=max(260, 90 + 24 * len(shown))))


def pearson_figure(per_emotion: Mapping[str, float], mean: float, title: str) -> go.Figure:
    """Bars of Pearson's r per emotion (−1 to 1) with the mean as a dashed line (and in the title)."""
    r = [float(per_emotion[emotion]) for emotion in EMOTIONS]
    fig = go.Figure(
        go.Bar(
            x=list(EMOTIONS),
            y=r,
            text=[f"{value:.3f}" for value in r],
            textposition="outside",
            marker={"color": [EMOTION_COLOURS[e] for e in EMOTIONS]},
            hovertemplate="%{x}: r = %{y:.4f}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_hline(y=mean, line={"dash": "dash", "color": TEXT_COLOUR})
    fig.update_yaxes(title_text="Pearson's r", range=[min(-0.1, min(r) - 0.15), max(1.0, max(r) + 0.15)])
    return _axes(_style(fig, f"{title} — mean {mean:.4f} (dashed)", height=360))


def breakdown_figure(
    segments: Mapping[str, Mapping[str, float]], details: Mapping[str, Mapping[str, str]],
    colours: Mapping[str, str], title: str,
) -> go.Figure:  # fmt: skip
    """Horizontal stacked bars, one per emotion: ``segments[name][emotion]`` is a part of its value.

    ``details[name][emotion]`` (optional) is the hover text of a segment (e.g. the cues it sums).
    """
    fig = go.Figure()
    for name, values in segments.items():
        hover = details.get(name, {})
        fig.add_trace(
            go.Bar(
                y=list(EMOTIONS),
                x=[values.get(emotion, 0.0) for emotion in EMOTIONS],
                name=name,
                orientation="h",
                marker={"color": colours.get(name, TEXT_COLOUR)},
                customdata=[hover.get(emotion, "") for emotion in EMOTIONS],
                hovertemplate="%{y} · " + name + ": %{x:.3f}<br>%{customdata}<extra></extra>",
            )
        )
    fig.update_layout(barmode="relative")  # stacked; a negative part (learned fusion) goes left of 0
    low = min([0.0, *(sum(min(0.0, v) for v in (s.get(e, 0.0) for s in segments.values())) for e in EMOTIONS)])
    fig.update_xaxes(title_text="part of the fused intensity", range=[low, 1], title_standoff=4)
    fig.update_yaxes(categoryorder="array", categoryarray=list(EMOTIONS)[::-1], automargin=True)
    fig = _axes(_style(fig, title, height=380))
    fig.update_layout(
        font={"size": 11},
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "center", "x": 0.5},
    )
    return fig
