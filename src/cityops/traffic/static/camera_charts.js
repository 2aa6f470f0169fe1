// Charts for the selected camera from the minute rollups (GET /api/series): vehicles per minute by class
// over the last hour as stacked bars, and occupancy with average speed as two lines.
import * as echarts from '/static/vendor/echarts/echarts.esm.min.mjs';
import { getJSON } from '/static/js/api.js';
import { cssColor } from '/static/js/dom.js';
import { formatNumber, formatTime, t } from '/static/js/i18n.js';
import { CLASSES, classColor, className } from './overlay.js';

const MINUTE = 60_000;
const WINDOW_MINUTES = 60;
const FLOW_COLOR = '#e8590c';

function minuteBuckets(end) {
  const last = Math.floor(end / MINUTE) * MINUTE;
  return Array.from({ length: WINDOW_MINUTES }, (_, index) => last - (WINDOW_MINUTES - 1 - index) * MINUTE);
}

function byBucket(rows, field) {
  return new Map((rows ?? []).map((row) => [row.ts, row[field]]));
}

function axisStyle() {
  const muted = cssColor('--muted');
  const line = cssColor('--line');
  return {
    axisLine: { lineStyle: { color: line } },
    axisLabel: { color: muted, hideOverlap: true },
    splitLine: { lineStyle: { color: line, opacity: 0.5 } },
  };
}

function baseOption(buckets, title) {
  const style = axisStyle();
  return {
    animation: false,
    title: { text: title, left: 0, top: 0, textStyle: { color: cssColor('--text'), fontSize: 13, fontWeight: 600 } },
    grid: { left: 44, right: 44, top: 70, bottom: 24 },
    legend: {
      type: 'scroll', top: 22, left: 0, right: 0, itemWidth: 12, itemHeight: 8,
      textStyle: { color: cssColor('--text') }, pageTextStyle: { color: cssColor('--muted') },
    },
    tooltip: { trigger: 'axis', valueFormatter: (value) => (value === null || value === undefined ? '–' : formatNumber(value)) },
    xAxis: { type: 'category', data: buckets.map((ts) => formatTime(ts).slice(0, 5)), ...style, splitLine: { show: false } },
  };
}

function axisName(name) {
  return { name, nameTextStyle: { color: cssColor('--muted'), align: 'center' }, nameGap: 10 };
}

export class CameraCharts {
  constructor({ flow, trend }, catalogue) {
    this.boxes = { flow, trend };
    this.catalogue = catalogue;
    this.flowChart = echarts.init(flow, null, { renderer: 'svg' });
    this.trendChart = echarts.init(trend, null, { renderer: 'svg' });
    this.camera = null;
    this.data = null;
  }

  metrics() {
    return this.catalogue.types.get('Camera')?.metrics ?? new Map();
  }

  // Per-class counts where the Camera type has them; otherwise the flow itself.
  flowMetrics() {
    const known = this.metrics();
    const counts = CLASSES.map((name) => `count.${name}`).filter((metric) => known.has(metric));
    return counts.length ? counts : ['intensity'];
  }

  async load(camera, now = Date.now()) {
    this.camera = camera;
    const known = this.metrics();
    const trend = ['occupancy', 'averageVehicleSpeed'].filter((metric) => known.has(metric));
    const metrics = [...new Set([...this.flowMetrics(), ...trend])];
    const end = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    const start = end - WINDOW_MINUTES * MINUTE;
    const query = new URLSearchParams({ entity: camera.urn, grain: 'm', start: String(start), end: String(end) });
    for (const metric of metrics) query.append('metric', metric);
    const body = await getJSON(`/api/series?${query}`);
    if (this.camera !== camera) return; // another camera was chosen meanwhile
    this.data = { series: body.series, buckets: minuteBuckets(end - 1) };
    this.draw();
  }

  draw() {
    if (!this.data) return;
    const { series, buckets } = this.data;
    const flowMetrics = this.flowMetrics();
    const classes = flowMetrics[0] === 'intensity' ? null : flowMetrics;
    const flowSeries = (classes ?? ['intensity']).map((metric) => {
      // Per-class counts add up over the minute; the flow is already a rate, so its mean is the minute's.
      const values = byBucket(series[metric], classes ? 'sum' : 'mean');
      const name = classes ? metric.slice('count.'.length) : null;
      return {
        type: 'bar',
        name: classes ? className(name) : t('traffic.metric.intensity'),
        stack: 'flow',
        barCategoryGap: '15%',
        itemStyle: { color: classes ? classColor(name) : FLOW_COLOR },
        data: buckets.map((ts) => values.get(ts) ?? null),
      };
    });
    const style = axisStyle();
    this.flowChart.setOption(
      {
        ...baseOption(buckets, t('traffic.chart.flow_by_class')),
        yAxis: { type: 'value', ...axisName(t('traffic.chart.vehicles_per_minute')), ...style },
        series: flowSeries,
      },
      { notMerge: true },
    );
    const occupancy = byBucket(series.occupancy, 'mean');
    const speed = byBucket(series.averageVehicleSpeed, 'mean');
    this.trendChart.setOption(
      {
        ...baseOption(buckets, t('traffic.chart.occupancy_speed')),
        yAxis: [
          { type: 'value', min: 0, max: 100, ...axisName('%'), ...style },
          { type: 'value', min: 0, ...axisName('km/h'), ...style, splitLine: { show: false } },
        ],
        series: [
          {
            type: 'line', name: t('traffic.metric.occupancy'), yAxisIndex: 0, showSymbol: true, symbolSize: 4, connectNulls: false,
            itemStyle: { color: cssColor('--warn') }, areaStyle: { opacity: 0.12 },
            data: buckets.map((ts) => occupancy.get(ts) ?? null),
          },
          {
            type: 'line', name: t('traffic.metric.averageVehicleSpeed'), yAxisIndex: 1, showSymbol: true, symbolSize: 4, connectNulls: false,
            itemStyle: { color: cssColor('--accent') },
            data: buckets.map((ts) => speed.get(ts) ?? null),
          },
        ],
      },
      { notMerge: true },
    );
    const points = flowSeries.reduce((total, one) => total + one.data.filter((value) => value !== null).length, 0);
    this.boxes.flow.dataset.points = String(points);
    this.boxes.trend.dataset.points = String(occupancy.size + speed.size);
  }

  resize() {
    this.flowChart.resize();
    this.trendChart.resize();
  }
}
