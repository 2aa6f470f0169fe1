// The strip of indicator tiles: value against target, coloured by status, with a gauge for
// percentages and a sparkline of the values seen since the page opened for everything else.
import * as echarts from '/static/vendor/echarts/echarts.esm.min.mjs';
import { getJSON } from './api.js';
import { cssColor, h } from './dom.js';
import { formatMeasure, measureParts, onLanguageChange, pick, t } from './i18n.js';
import { reportFailure, reportRecovery } from './notices.js';

const REFRESH_MS = 10_000;
const HISTORY = 60;
const STATUS_COLORS = { ok: '--ok', warn: '--warn', bad: '--bad', unknown: '--unknown' };
const MIN_TILE_PX = 240;

function gaugeOption(value, target, color) {
  const track = cssColor('--line');
  const axisColors = target === null ? [[1, track]] : [[target / 100, track], [1, 'rgba(47, 191, 113, 0.45)']];
  return {
    animationDuration: 400,
    series: [
      {
        type: 'gauge',
        startAngle: 200,
        endAngle: -20,
        min: 0,
        max: 100,
        radius: '100%',
        center: ['50%', '65%'],
        progress: { show: true, width: 8, itemStyle: { color } },
        axisLine: { lineStyle: { width: 8, color: axisColors } },
        pointer: { show: false },
        anchor: { show: false },
        axisTick: { show: false },
        splitLine: { show: false },
        axisLabel: { show: false },
        title: { show: false },
        detail: { show: false },
        data: [{ value: value ?? 0 }],
      },
    ],
  };
}

function sparklineOption(values, target, color) {
  return {
    animation: false,
    grid: { left: 2, right: 2, top: 4, bottom: 4 },
    xAxis: { type: 'category', show: false, boundaryGap: false, data: values.map((_, index) => index) },
    yAxis: { type: 'value', show: false, scale: true },
    series: [
      {
        type: 'line',
        data: values,
        showSymbol: false,
        smooth: true,
        lineStyle: { width: 2, color },
        areaStyle: { color, opacity: 0.15 },
        markLine:
          target === null
            ? undefined
            : { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: cssColor('--muted'), type: 'dashed' }, data: [{ yAxis: target }] },
      },
    ],
  };
}

export class IndicatorStrip {
  constructor(container) {
    this.container = container;
    this.tiles = new Map(); // id -> {element, chart, history, indicator}
    this.indicators = [];
  }

  start() {
    this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
    onLanguageChange(() => this.render());
    window.addEventListener('resize', () => {
      this.layOut();
      for (const tile of this.tiles.values()) tile.chart.resize();
    });
  }

  async refresh() {
    try {
      this.indicators = await getJSON('/api/indicators');
      reportRecovery('/api/indicators');
    } catch (error) {
      reportFailure('/api/indicators', error);
      return;
    }
    for (const indicator of this.indicators) {
      const history = this.tiles.get(indicator.id)?.history ?? [];
      if (indicator.value !== null) history.push(indicator.value);
      if (history.length > HISTORY) history.splice(0, history.length - HISTORY);
      this.tileFor(indicator).history = history;
    }
    this.render();
  }

  tileFor(indicator) {
    let tile = this.tiles.get(indicator.id);
    if (!tile) {
      const chartBox = h('div', { class: 'tile-chart', 'aria-hidden': 'true' });
      const element = h(
        'article',
        { class: 'tile', dataset: { indicator: indicator.id } },
        h('h3', { class: 'tile-title' }),
        h('p', { class: 'tile-value' }),
        h('p', { class: 'tile-target' }),
        h('p', { class: 'tile-status' }),
        chartBox,
      );
      this.container.querySelector('.placeholder')?.remove();
      this.container.append(element);
      tile = { element, chart: echarts.init(chartBox, null, { renderer: 'svg' }), history: [] };
      this.tiles.set(indicator.id, tile);
    }
    return tile;
  }

  render() {
    const shown = new Set(this.indicators.map((indicator) => indicator.id));
    for (const [id, tile] of this.tiles) {
      if (!shown.has(id)) {
        tile.chart.dispose();
        tile.element.remove();
        this.tiles.delete(id);
      }
    }
    for (const indicator of this.indicators) this.renderTile(indicator, this.tileFor(indicator));
    this.layOut();
  }

  // As few even rows as keep every tile at least MIN_TILE_PX wide: one row on a wall, two on a laptop.
  layOut() {
    const count = Math.max(1, this.tiles.size);
    const rows = Math.max(1, Math.ceil((count * MIN_TILE_PX) / Math.max(1, this.container.clientWidth)));
    const columns = Math.ceil(count / rows);
    if (this.container.style.getPropertyValue('--tile-columns') !== String(columns)) {
      this.container.style.setProperty('--tile-columns', String(columns));
      for (const tile of this.tiles.values()) tile.chart.resize();
    }
  }

  renderTile(indicator, tile) {
    const { element } = tile;
    const status = indicator.status in STATUS_COLORS ? indicator.status : 'unknown';
    // No target yet but a value: nothing to judge, so neither "no data" nor a warning colour.
    const unjudged = status === 'unknown' && indicator.value !== null;
    element.dataset.status = status;
    element.dataset.unjudged = String(unjudged);
    element.querySelector('.tile-title').textContent = pick(indicator.title) || indicator.id;
    const { number, unit } = measureParts(indicator.value, indicator.unit);
    element.querySelector('.tile-value').replaceChildren(number, unit ? h('span', { class: 'tile-unit' }, unit) : '');
    const targetKey = indicator.direction === 'lower' ? 'indicators.target_lower' : 'indicators.target_higher';
    element.querySelector('.tile-target').textContent =
      indicator.target === null ? t('indicators.no_target') : t(targetKey, { target: formatMeasure(indicator.target, indicator.unit) });
    element.querySelector('.tile-status').textContent = unjudged ? '' : t(`status.${status}`);
    const color = cssColor(unjudged ? '--accent' : STATUS_COLORS[status]);
    if (indicator.unit === '%') tile.chart.setOption(gaugeOption(indicator.value, indicator.target, color));
    else tile.chart.setOption(sparklineOption(tile.history, indicator.target, color), { notMerge: true });
  }
}
