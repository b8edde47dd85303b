"""The decay chart to expiry: one line per nuclide, logarithmic where the activities span
decades, calibration and expiry marked; dark lines with dashes so it prints in black."""

import math
from datetime import timedelta
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.axes import LogYValueAxis
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Line, String
from reportlab.lib import colors

from batches.pdf.data import CertificateData
from batches.pdf.text import nuclide_label, plain_time
from qc.formatting import format_activity, nice_step, si_prefix

# Dark, distinguishable in greyscale; dashes tell lines apart on a black-only printer.
_LINE_STYLES = (
    (colors.black, None),
    (colors.Color(0.1, 0.25, 0.6), (4, 2)),
    (colors.Color(0.6, 0.1, 0.1), (1, 2)),
    (colors.Color(0.1, 0.45, 0.1), (6, 2, 1, 2)),
    (colors.Color(0.4, 0.2, 0.5), (2, 2)),
    (colors.Color(0.35, 0.35, 0.35), (8, 3)),
)


def _time_unit(span: timedelta) -> tuple[str, timedelta]:
    if span <= timedelta(hours=3):
        return "min", timedelta(minutes=1)
    if span <= timedelta(hours=96):
        return "h", timedelta(hours=1)
    return "d", timedelta(days=1)


def decay_chart(data: CertificateData, regular: str, zone: ZoneInfo, width: float) -> Drawing:
    decay = data.decay
    height = 170.0
    drawing = Drawing(width, height, initialFontName=regular)
    # Table times are stored to the second and EOS to the microsecond: a first row 0.2 s
    # "before" EOS must not pull the axis back a whole step.
    offsets = [timedelta(seconds=round((t - data.eos).total_seconds())) for t in decay.times]
    marks = {"cal.": data.calibration_time, "expiry": data.expiry}
    span = max(offsets + [t - data.eos for t in marks.values()])
    unit, size = _time_unit(span)
    xs = [offset / size for offset in offsets]
    x_min = min([0.0, *xs])
    x_max = max(span / size, x_min + 1e-9)

    positive = [a for series in decay.activities_bq.values() for a in series if a > 0]
    top = max(positive, default=1.0)
    bottom = min(positive, default=1.0)
    log_scale = top / bottom > 50

    plot = LinePlot()
    plot.x, plot.y = 52, 38
    plot.width, plot.height = width - plot.x - 118, height - plot.y - 14
    if log_scale:
        y_min = 10 ** math.floor(math.log10(max(bottom, top * 1e-7)))
        y_max = 10 ** math.ceil(math.log10(top))
        plot.yValueAxis = LogYValueAxis()
        plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = y_min, y_max
        decades = range(round(math.log10(y_min)), round(math.log10(y_max)) + 1)
        plot.yValueAxis.valueSteps = [10.0**d for d in decades]
        plot.yValueAxis.labelTextFormat = lambda v: format_activity(v, digits=1)
        scale, y_title = 1.0, "Activity (log scale)"
        series = [[(x, a) for x, a in zip(xs, values, strict=True) if a >= y_min]
                  for values in decay.activities_bq.values()]
    else:
        scale, prefix = si_prefix(top)
        y_title = f"Activity ({prefix}Bq)"
        plot.yValueAxis.valueMin = 0
        plot.yValueAxis.valueMax = top / scale * 1.08
        plot.yValueAxis.valueStep = nice_step(top / scale * 1.08, 6)
        plot.yValueAxis.labelTextFormat = "%g"
        series = [[(x, a / scale) for x, a in zip(xs, values, strict=True)]
                  for values in decay.activities_bq.values()]
    plot.data = [s or [(0, plot.yValueAxis.valueMin)] for s in series]
    step = nice_step(x_max - x_min, 6)
    plot.xValueAxis.valueMin = math.floor(x_min / step) * step
    plot.xValueAxis.valueMax = math.ceil(x_max / step) * step
    plot.xValueAxis.valueStep = step
    plot.xValueAxis.labelTextFormat = "%g"
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize = regular, 6.5
        axis.strokeColor = colors.black
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.Color(0.8, 0.8, 0.8)
    plot.yValueAxis.gridStrokeWidth = 0.3
    for i, _ in enumerate(series):
        colour, dash = _LINE_STYLES[i % len(_LINE_STYLES)]
        plot.lines[i].strokeColor = colour
        plot.lines[i].strokeWidth = 1.2
        if dash:
            plot.lines[i].strokeDashArray = dash
    drawing.add(plot)

    x_start, x_end = plot.xValueAxis.valueMin, plot.xValueAxis.valueMax
    for label, moment in marks.items():
        x_value = (moment - data.eos) / size
        x_pos = plot.x + (x_value - x_start) / (x_end - x_start) * plot.width
        drawing.add(Line(x_pos, plot.y, x_pos, plot.y + plot.height, strokeWidth=0.5,
                         strokeDashArray=(2, 2), strokeColor=colors.black))
        drawing.add(String(x_pos, plot.y + plot.height + 3, label, fontName=regular,
                           fontSize=6.5, textAnchor="middle"))

    drawing.add(String(plot.x + plot.width / 2, 6,
                       f"Time after EOS ({unit}); EOS = {plain_time(data.eos, zone)}",
                       fontName=regular, fontSize=7, textAnchor="middle"))
    y_label = Group(String(0, 0, y_title, fontName=regular, fontSize=7, textAnchor="middle"))
    y_label.translate(8, plot.y + plot.height / 2)
    y_label.rotate(90)
    drawing.add(y_label)

    legend_x = plot.x + plot.width + 14
    for i, nuclide in enumerate(decay.activities_bq):
        colour, dash = _LINE_STYLES[i % len(_LINE_STYLES)]
        y_pos = plot.y + plot.height - 6 - i * 14
        drawing.add(Line(legend_x, y_pos + 2.5, legend_x + 22, y_pos + 2.5, strokeColor=colour,
                         strokeWidth=1.2, strokeDashArray=dash))
        drawing.add(String(legend_x + 27, y_pos, nuclide_label(nuclide), fontName=regular,
                           fontSize=8.5))
    return drawing
