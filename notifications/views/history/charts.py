"""Small inline SVG charts drawn on the server: no script, no external library, readable without colour."""
from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT, PAD = 640, 160, 4
# Only shapes are drawn in SVG: it is scaled to the column's width, and text inside it would shrink with it (to about
# 6 px on a phone). Labels and figures are HTML beside the drawing, at the page's own type size.


def bar_chart(points: list[tuple[str, int]], *, title: str) -> str:
    """Vertical bars, one per (label, value); each bar carries its figure as a tooltip, the first and last label and
    the peak are written under and over the bars."""
    if not points:
        return ""
    peak = max(value for _label, value in points) or 1
    step = (WIDTH - 2 * PAD) / len(points)
    bar = max(step * 0.7, 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = (HEIGHT - 2 * PAD) * value / peak
        x = PAD + index * step + (step - bar) / 2
        y = HEIGHT - PAD - height
        bars.append((f"{x:.1f}", f"{y:.1f}", f"{bar:.1f}", f"{height:.1f}", label, value))
    body = format_html_join(
        "", '<rect class="va-chart-bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>', bars
    )
    return format_html(
        '<figure class="va-chart-figure mb-0"><div class="va-chart-text" aria-hidden="true">{peak}</div>'
        '<svg class="va-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" preserveAspectRatio="none">'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" class="va-chart-axis"/>{body}</svg>'
        '<figcaption class="va-chart-text d-flex justify-content-between" aria-hidden="true"><span>{first}</span>'
        '<span>{last}</span></figcaption></figure>',
        w=WIDTH, h=HEIGHT, t=title, base=HEIGHT - PAD, body=body, first=points[0][0], last=points[-1][0], peak=peak,
    )


def share_bars(rows: list[tuple[str, str, int]], *, title: str) -> str:
    """Horizontal bars (css suffix, label, value) as shares of the total: a list whose items carry label and figure as
    text and the bar as a drawing."""
    if not rows:
        return ""
    total = sum(value for _css, _label, value in rows) or 1
    items = format_html_join("", (
        '<li class="va-share"><span class="va-share-label">{}</span>'
        '<svg class="va-share-bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        '<rect class="va-chart-share va-state-{}" x="0" y="0" width="{}" height="10"/></svg>'
        '<span class="va-share-figure">{} ({}%)</span></li>'
    ), [(label, css, f"{100 * value / total:.1f}", value, f"{100 * value / total:.1f}") for css, label, value in rows])
    return format_html('<ul class="va-shares list-unstyled mb-0" aria-label="{}">{}</ul>', title, items)
