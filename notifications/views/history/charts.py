"""Small inline SVG charts drawn on the server: no script, no external library, readable without colour."""
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH, HEIGHT, PAD = 640, 180, 24
# The outcome chart sits in a narrower column; drawn at about its shown width its labels stay readable.
SHARE_WIDTH, SHARE_LABEL, SHARE_BAR = 480, 180, 190


def bar_chart(points: list[tuple[str, int]], *, title: str) -> str:
    """Vertical bars, one per (label, value); each bar carries its figure as a tooltip."""
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
    first, last = points[0][0], points[-1][0]
    return format_html(
        '<svg class="va-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" preserveAspectRatio="none">'
        '<line x1="{p}" y1="{base}" x2="{r}" y2="{base}" class="va-chart-axis"/>{body}'
        '<text x="{p}" y="{lab}" class="va-chart-label">{first}</text>'
        '<text x="{r}" y="{lab}" text-anchor="end" class="va-chart-label">{last}</text>'
        '<text x="{p}" y="14" class="va-chart-label">{peak}</text></svg>',
        w=WIDTH, h=HEIGHT, t=title, p=PAD, r=WIDTH - PAD, base=HEIGHT - PAD, lab=HEIGHT - 6, body=body,
        first=first, last=last, peak=peak,
    )


def share_bars(rows: list[tuple[str, str, int]], *, title: str) -> str:
    """Horizontal bars (css suffix, label, value) as shares of the total, with label and figure written beside each."""
    if not rows:
        return ""
    total = sum(value for _css, _label, value in rows) or 1
    row_height = 26
    items = []
    for index, (css, label, value) in enumerate(rows):
        y = 2 + index * row_height
        items.append(format_html(
            '<rect class="va-chart-share va-state-{css}" x="{x}" y="{y}" width="{w}" height="20"/>'
            '<text x="0" y="{ty}" class="va-chart-label">{label}</text>'
            '<text x="{right}" y="{ty}" class="va-chart-label" text-anchor="end">{value} ({share}%)</text>',
            css=css, x=SHARE_LABEL, y=y, w=f"{SHARE_BAR * value / total:.1f}", ty=y + 15, label=label, right=SHARE_WIDTH,
            value=value,
            share=f"{100 * value / total:.1f}",
        ))
    return format_html(
        '<svg class="va-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">{body}</svg>',
        w=SHARE_WIDTH, h=row_height * len(rows) + 4, t=title, body=mark_safe("".join(items)),
    )
