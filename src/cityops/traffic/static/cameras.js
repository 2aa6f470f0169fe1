// The traffic panel: cameras on the main map, the camera wall, and charts of the selected camera.
// Mounted by the kernel's panels.js; see there for `context`.
import { h } from '/static/js/dom.js';
import { formatDateTime, onLanguageChange, t } from '/static/js/i18n.js';
import { reportFailure, reportRecovery } from '/static/js/notices.js';
import { CameraCharts } from './camera_charts.js';
import { CameraLayer, STATE_COLORS } from './camera_layer.js';
import { CameraList } from './camera_list.js';
import { CameraWall } from './camera_wall.js';

const STYLESHEET = '/static/domains/traffic/cameras.css';
const STATE_REFRESH_MS = 30_000;
const CHART_REFRESH_MS = 5_000;
const DETAIL_METRICS = ['intensity', 'occupancy', 'averageVehicleSpeed'];

function addStylesheet() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href: STYLESHEET }));
}

class CamerasPanel {
  constructor(root, context) {
    this.root = root;
    this.context = context;
    this.cameras = new CameraList();
    this.selected = null;
    this.chartsLoadedAt = 0;
    this.chartTimer = null;
    this.parts = {
      summary: h('ul', { class: 'traffic-summary' }),
      wall: h('div', { class: 'camera-wall' }),
      detailTitle: h('h3', { class: 'camera-detail-title' }),
      detailMeta: h('p', { class: 'camera-detail-meta' }),
      detailValues: h('dl', { class: 'camera-detail-values' }),
      flowChart: h('div', { class: 'camera-chart', dataset: { chart: 'flow' } }),
      trendChart: h('div', { class: 'camera-chart', dataset: { chart: 'trend' } }),
      wallTitle: h('h3', { class: 'camera-wall-title' }),
    };
    const { parts } = this;
    root.append(
      h(
        'div',
        { class: 'traffic-panel' },
        h(
          'section',
          { class: 'camera-wall-section' },
          h('header', { class: 'traffic-panel-header' }, parts.wallTitle, parts.summary),
          parts.wall,
        ),
        h(
          'aside',
          { class: 'camera-detail', 'aria-live': 'polite' },
          parts.detailTitle,
          parts.detailMeta,
          parts.detailValues,
          parts.flowChart,
          parts.trendChart,
        ),
      ),
    );
  }

  async start() {
    await this.cameras.load();
    reportRecovery('/api/entities?type=Camera');
    const { context } = this;
    this.layer = new CameraLayer(context.map, this.cameras, (urn) => this.select(urn, { fromMap: true }));
    this.wall = new CameraWall(this.parts.wall, this.cameras, {
      onSelect: (urn) => this.select(urn),
      visible: () => context.visible(),
    });
    this.charts = new CameraCharts({ flow: this.parts.flowChart, trend: this.parts.trendChart }, context.catalogue);
    this.wall.start();
    this.cameras.onChange((urns) => this.changed(urns));
    context.on('observations', (batch) => this.cameras.applyObservations(batch));
    context.on('entity', (entity) => this.cameras.applyEntity(entity));
    context.onShow(() => {
      this.charts.resize();
      this.wall.tick();
      this.refreshCharts(true);
    });
    onLanguageChange(() => this.translate());
    setInterval(() => this.refreshStates(), STATE_REFRESH_MS);
    this.translate();
    const first = this.cameras.sorted()[0];
    if (first) this.select(first.urn);
    this.wall.tick();
  }

  changed(urns) {
    this.layer.refresh();
    this.renderSummary();
    if (!urns || [...urns].some((urn) => !this.wall.cards.has(urn))) {
      this.wall.render();
    } else {
      for (const urn of urns) this.wall.renderCard(this.cameras.cameras.get(urn));
    }
    if (this.selected && (!urns || urns.has(this.selected))) {
      this.renderDetail();
      this.refreshCharts(false);
    }
  }

  // Cameras fall silent without any event saying so: look again now and then.
  async refreshStates() {
    try {
      await this.cameras.loadRegistry();
      reportRecovery('/api/traffic/cameras');
    } catch (error) {
      reportFailure('/api/traffic/cameras', error);
    }
    this.changed(null);
  }

  select(urn, { fromMap = false } = {}) {
    const camera = this.cameras.cameras.get(urn);
    if (!camera) return;
    this.selected = urn;
    this.layer.select(urn);
    this.wall.select(urn);
    this.root.dataset.selected = urn;
    this.renderDetail();
    if (fromMap) {
      // The map is shared by every panel: show this one so the choice is visible.
      if (!this.context.visible()) document.getElementById(this.root.getAttribute('aria-labelledby'))?.click();
      this.wall.reveal(urn);
    }
    this.refreshCharts(true);
  }

  // New points for the selected camera redraw its charts, at most every few seconds (trailing, so the
  // last batch is always shown).
  refreshCharts(force) {
    if (force) {
      clearTimeout(this.chartTimer);
      this.chartTimer = null;
      return this.loadCharts();
    }
    if (this.chartTimer) return undefined;
    const wait = Math.max(0, this.chartsLoadedAt + CHART_REFRESH_MS - Date.now());
    this.chartTimer = setTimeout(() => {
      this.chartTimer = null;
      this.loadCharts();
    }, wait);
    return undefined;
  }

  async loadCharts() {
    const camera = this.cameras.cameras.get(this.selected);
    if (!camera || !this.context.visible()) return;
    this.chartsLoadedAt = Date.now();
    try {
      await this.charts.load(camera, this.chartsLoadedAt);
      reportRecovery('/api/series');
    } catch (error) {
      reportFailure('/api/series', error);
    }
  }

  renderSummary() {
    const counts = { up: 0, down: 0, unknown: 0 };
    const now = Date.now();
    for (const camera of this.cameras.cameras.values()) counts[this.cameras.state(camera, now)] += 1;
    this.parts.summary.replaceChildren(
      ...Object.keys(STATE_COLORS).map((state) =>
        h(
          'li',
          { dataset: { state } },
          h('span', { class: 'state-dot', 'aria-hidden': 'true' }),
          h('span', {}, t(`traffic.state.${state}`)),
          h('strong', { class: 'state-count' }, String(counts[state])),
        ),
      ),
    );
  }

  renderDetail() {
    const camera = this.cameras.cameras.get(this.selected);
    const { parts } = this;
    if (!camera) {
      parts.detailTitle.textContent = t('traffic.detail.choose');
      return;
    }
    const { catalogue, mapView } = this.context;
    const state = this.cameras.state(camera);
    parts.detailTitle.textContent = camera.name;
    const area = mapView?.areaNames?.get(camera.areaCode);
    parts.detailMeta.replaceChildren(
      h('span', { class: 'camera-state', dataset: { state } }, t(`traffic.state.${state}`)),
      camera.simulated ? h('span', { class: 'badge badge-simulated' }, t('traffic.wall.simulated')) : '',
      area ? h('span', {}, area) : '',
      h('code', {}, camera.id),
    );
    parts.detailValues.replaceChildren(
      ...DETAIL_METRICS.flatMap((metric) => {
        const latest = camera.latest[metric];
        return [
          h('dt', { title: latest?.ts ? formatDateTime(latest.ts) : null }, catalogue.metricTitle('Camera', metric)),
          h('dd', { dataset: { metric } }, latest ? catalogue.formatValue('Camera', metric, latest.value) : '–'),
        ];
      }),
    );
  }

  translate() {
    this.parts.wallTitle.textContent = t('traffic.wall.title');
    this.renderSummary();
    this.wall.retranslate();
    this.renderDetail();
    this.charts.draw();
  }
}

export async function mount(root, context) {
  addStylesheet();
  const panel = new CamerasPanel(root, context);
  await panel.start();
  root.cameras = panel; // for tests and the console
}
