// The live event feed: Server-Sent Events from /api/live, newest first, drawn at most a few times
// a second however fast batches arrive, with the data-point rate over the last minute.
import * as echarts from '/static/vendor/echarts/echarts.esm.min.mjs';
import { whoAmI } from './auth.js';
import { cssColor, h } from './dom.js';
import { formatMeasure, formatNumber, formatTime, onLanguageChange, pick, t } from './i18n.js';

const MAX_ITEMS = 150;
const ROWS_PER_BATCH = 8;
const DRAW_EVERY_MS = 200;
const RATE_WINDOW_S = 60;
const RATE_AVERAGE_S = 5;
const RECONNECT_MS = 5000;

export class LiveFeed {
  constructor({ list, empty, rateText, rateChart, connection }, catalogue, handlers) {
    Object.assign(this, { list, empty, rateText, connection, catalogue, handlers });
    this.items = []; // newest first, what is on screen
    this.pending = []; // oldest first, not drawn yet
    this.drawTimer = null;
    this.alertTitles = new Map();
    this.pointsThisSecond = 0;
    this.rates = new Array(RATE_WINDOW_S).fill(0);
    this.rateChart = echarts.init(rateChart, null, { renderer: 'svg' });
    // Read by the end-to-end latency benchmark and the browser tests.
    this.stats = window.cityopsLive = { batches: 0, points: 0, lastLatencyMs: null };
  }

  start() {
    this.connect();
    setInterval(() => this.tickRate(), 1000);
    onLanguageChange(() => this.redrawAll());
  }

  connect() {
    this.setConnection('connecting');
    const source = new EventSource('/api/live');
    source.addEventListener('open', () => this.setConnection('online'));
    source.addEventListener('error', () => {
      this.setConnection('offline');
      // The browser retries by itself after a network error, but gives up on an HTTP error (a 401 when
      // the session has ended): ask who we are (which brings the sign-in form back) and try again.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(() => whoAmI().catch(() => null).finally(() => this.connect()), RECONNECT_MS);
      }
    });
    source.addEventListener('hello', (event) => this.handlers.hello?.(JSON.parse(event.data)));
    source.addEventListener('observations', (event) => this.onObservations(JSON.parse(event.data)));
    source.addEventListener('entity', (event) => this.onEntity(JSON.parse(event.data)));
    source.addEventListener('alert', (event) => this.onAlert(JSON.parse(event.data)));
    source.addEventListener('incident', (event) => this.onIncident(JSON.parse(event.data)));
    this.source = source;
  }

  setConnection(state) {
    this.connection.dataset.state = state;
    this.connection.dataset.i18n = `live.${state}`;
    this.connection.textContent = t(`live.${state}`);
  }

  onObservations(batch) {
    this.stats.batches += 1;
    this.stats.points += batch.points;
    this.stats.lastLatencyMs = Date.now() - batch.received_ms;
    this.pointsThisSecond += batch.points;
    this.handlers.observations?.(batch);
    const shown = batch.series.slice(0, ROWS_PER_BATCH);
    // Oldest first in `pending`, so the newest point of the batch ends up on top.
    for (const point of [...shown].reverse()) this.queue({ kind: 'observation', ...point });
    if (batch.points > shown.length) {
      this.queue({ kind: 'more', batch: batch.batch_id, count: batch.points - shown.length, ts: batch.received_ms });
    }
  }

  onEntity(entity) {
    this.handlers.entity?.(entity);
    this.queue({ kind: 'entity', ...entity, ts: Date.now() });
  }

  onAlert(alert) {
    this.handlers.alert?.(alert);
    if (alert.title) this.alertTitles.set(alert.alert_id, alert.title);
    const raised = 'raised_ms' in alert;
    this.queue({
      kind: 'alert',
      raised,
      title: this.alertTitles.get(alert.alert_id),
      source: alert.source_name ?? alert.source,
      severity: alert.severity,
      ts: raised ? alert.raised_ms : alert.cleared_ms,
    });
    if (!raised) this.alertTitles.delete(alert.alert_id);
  }

  onIncident(incident) {
    this.handlers.incident?.(incident);
    this.queue({ kind: 'incident', ...incident, ts: incident.ts_ms });
  }

  queue(item) {
    this.pending.push(item);
    if (this.pending.length > MAX_ITEMS) this.pending.splice(0, this.pending.length - MAX_ITEMS);
    this.drawTimer ??= setTimeout(() => this.draw(), DRAW_EVERY_MS);
  }

  draw() {
    this.drawTimer = null;
    const fresh = this.pending.reverse();
    this.pending = [];
    this.items = fresh.concat(this.items).slice(0, MAX_ITEMS);
    this.list.prepend(...fresh.map((item) => this.row(item)));
    while (this.list.children.length > MAX_ITEMS) this.list.lastElementChild.remove();
    this.empty.hidden = this.items.length > 0;
  }

  redrawAll() {
    this.list.replaceChildren(...this.items.map((item) => this.row(item)));
    this.renderRate();
    this.setConnection(this.connection.dataset.state);
  }

  row(item) {
    const time = h('time', { datetime: new Date(item.ts).toISOString() }, formatTime(item.ts));
    switch (item.kind) {
      case 'observation':
        return h(
          'li',
          {
            dataset: { kind: 'observation', entity: item.entity, metric: item.metric, value: item.value },
            style: { '--swatch': this.catalogue.color(item.type) },
          },
          time,
          h('span', { class: 'dot' }),
          h('span', { class: 'who' }, item.name),
          h('span', { class: 'value' }, this.catalogue.formatValue(item.type, item.metric, item.value)),
          h('span', { class: 'what' }, this.catalogue.metricTitle(item.type, item.metric)),
        );
      case 'more':
        return h('li', { dataset: { kind: 'more' } }, t('feed.more', { count: formatNumber(item.count, 0), batch: item.batch }));
      case 'entity':
        return h(
          'li',
          { dataset: { kind: 'entity', entity: item.urn }, style: { '--swatch': this.catalogue.color(item.type) } },
          time,
          h('span', { class: 'dot' }),
          h('span', { class: 'who' }, item.name),
          h('span', { class: 'what' }, `${t('feed.entity')} · ${this.catalogue.typeTitle(item.type)}`),
        );
      case 'alert':
        return h(
          'li',
          { dataset: { kind: 'alert', severity: item.severity ?? '', raised: String(item.raised) } },
          time,
          h('span', { class: 'dot', style: { '--swatch': cssColor(item.raised ? '--bad' : '--ok') } }),
          h('span', { class: 'who' }, pick(item.title) || item.source),
          h('span', { class: 'what' }, [item.raised ? t('feed.alert') : t('feed.alert_cleared'), item.severity ? t(`severity.${item.severity}`) : null, item.source].filter(Boolean).join(' · ')),
        );
      case 'incident':
        return h(
          'li',
          { dataset: { kind: 'incident', incident: item.incident_id } },
          time,
          h('span', { class: 'dot' }),
          h('span', { class: 'who' }, `#${item.incident_id} ${item.title}`),
          h('span', { class: 'what' }, `${t('feed.incident')} · ${t(`incident.state.${item.state}`)}`),
        );
      default:
        return h('li', {}, time);
    }
  }

  tickRate() {
    this.rates.push(this.pointsThisSecond);
    this.rates.shift();
    this.pointsThisSecond = 0;
    this.renderRate();
  }

  renderRate() {
    const recent = this.rates.slice(-RATE_AVERAGE_S);
    const rate = recent.reduce((sum, value) => sum + value, 0) / recent.length;
    this.rateText.textContent = t('feed.rate', { rate: formatNumber(rate, rate < 10 ? 1 : 0) });
    const color = cssColor('--accent');
    this.rateChart.setOption({
      animation: false,
      grid: { left: 0, right: 0, top: 2, bottom: 2 },
      xAxis: { type: 'category', show: false, boundaryGap: false, data: this.rates.map((_, index) => index) },
      yAxis: { type: 'value', show: false, min: 0 },
      series: [{ type: 'line', data: this.rates, showSymbol: false, lineStyle: { width: 1.5, color }, areaStyle: { color, opacity: 0.2 } }],
    });
  }
}
