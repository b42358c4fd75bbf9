/** Line charts as inline SVG: no script, no stylesheet, nothing fetched when the page is viewed. */

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  /** Dashed, to tell a second measure of the same target apart (p50 beside p99). */
  readonly dashed?: boolean;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChart {
  readonly title: string;
  /** The y axis's unit, e.g. "orders/s". */
  readonly unit: string;
  readonly series: readonly ChartSeries[];
}

const WIDTH = 560;
const HEIGHT = 220;
const MARGIN = { left: 64, right: 16, top: 28, bottom: 36 };

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A short label for an axis value. */
function tick(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`;
  return value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2);
}

/** One chart: axes with three ticks each, a polyline per series that has points, and a legend. */
export function renderLineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = Math.max(Number.MIN_VALUE, ...all.map(([, y]) => y)) * 1.1 || 1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + (x / maxX) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / maxY) * plotH;
  const parts: string[] = [
    `<text x="${MARGIN.left}" y="18" font-size="13" font-weight="bold">${escapeHtml(chart.title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#444"/>`,
  ];
  for (const fraction of [0, 0.5, 1]) {
    const y = maxY * fraction;
    parts.push(`<line x1="${MARGIN.left}" y1="${py(y).toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${(py(y) + 4).toFixed(1)}" font-size="11" text-anchor="end">${tick(y)}</text>`);
    const x = maxX * fraction;
    parts.push(`<text x="${px(x).toFixed(1)}" y="${MARGIN.top + plotH + 16}" font-size="11" text-anchor="middle">${tick(x)} s</text>`);
  }
  parts.push(`<text x="12" y="${MARGIN.top + plotH / 2}" font-size="11" transform="rotate(-90 12 ${MARGIN.top + plotH / 2})" text-anchor="middle">${escapeHtml(chart.unit)}</text>`);
  chart.series.forEach((series, index) => {
    if (series.points.length > 0) {
      const points = series.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      parts.push(
        `<polyline class="series" data-series="${escapeHtml(series.name)}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points}"/>`,
      );
    }
    const lx = MARGIN.left + 8 + index * 120;
    parts.push(`<line x1="${lx}" y1="${HEIGHT - 8}" x2="${lx + 18}" y2="${HEIGHT - 8}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${lx + 22}" y="${HEIGHT - 4}" font-size="11">${escapeHtml(series.name)}${series.points.length === 0 ? ' (no data)' : ''}</text>`);
  });
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}">${parts.join('')}</svg>`;
}
