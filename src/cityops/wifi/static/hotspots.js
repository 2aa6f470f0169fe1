// The wifi panel: hotspots on the main map (coloured by state, sized by users now), the day's figures per
// tenant, the sites (up / degraded / down) and a chart of users now per hotspot. A business's staff see
// only their tenant: the API answers each person with what they may see. Mounted by panels.js.
import * as echarts from '/static/vendor/echarts/echarts.esm.min.mjs';
import { getJSON } from '/static/js/api.js';
import { cssColor, h } from '/static/js/dom.js';
import { formatMeasure, formatNumber, onLanguageChange, t } from '/static/js/i18n.js';
import { reportFailure, reportRecovery } from '/static/js/notices.js';

const SOURCE = 'wifi-hotspots';
const LAYER = 'wifi-hotspots-circle';
const REFRESH_MS = 15_000;
const STATE_COLORS = { up: '--ok', down: '--bad', degraded: '--warn', unknown: '--unknown' };
const SIMULATED_TENANT = 'mo-phong';
const STYLESHEET = '/static/domains/wifi/panel.css';

// A data volume in the unit that reads best: "850 MB", "57,3 GB".
function volume(bytes) {
  return bytes >= 1e9 ? formatMeasure(bytes / 1e9, 'GB') : formatMeasure(Math.round(bytes / 1e6), 'MB');
}

function addStylesheet() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href: STYLESHEET }));
}

class HotspotsPanel {
  constructor(root, context) {
    Object.assign(this, { root, context });
    this.parts = {
      simulated: h('p', { class: 'badge badge-simulated', hidden: true }, ''),
      tenants: h('table', { class: 'wifi-tenants' }),
      sites: h('ul', { class: 'wifi-sites' }),
      chart: h('div', { class: 'wifi-chart' }),
    };
    this.headings = ['today', 'sites', 'users_by_hotspot'].map((key) => h('h3', { dataset: { key } }, t(`wifi.panel.${key}`)));
    const [today, sitesHeading, chartHeading] = this.headings;
    root.append(
      h('section', { class: 'wifi-panel' },
        this.parts.simulated,
        h('div', { class: 'wifi-card wifi-today' }, today, this.parts.tenants),
        h('div', { class: 'wifi-card wifi-chart-card' }, chartHeading, this.parts.chart),
        h('div', { class: 'wifi-card wifi-sites-card' }, sitesHeading, this.parts.sites)),
    );
    this.tenantNames = new Map();
    this.chart = echarts.init(this.parts.chart, null, { renderer: 'svg' });
    this.points = [];
    this.addLayer();
    context.onShow(() => this.chart.resize());
    onLanguageChange(() => this.refresh());
  }

  addLayer() {
    const map = this.context.map;
    const colors = Object.fromEntries(Object.entries(STATE_COLORS).map(([state, name]) => [state, cssColor(name)]));
    map.addSource(SOURCE, { type: 'geojson', data: this.collection() });
    map.addLayer({
      id: LAYER,
      type: 'circle',
      source: SOURCE,
      paint: {
        'circle-color': ['match', ['get', 'state'], 'up', colors.up, 'down', colors.down, colors.unknown],
        'circle-radius': ['interpolate', ['linear'], ['min', ['get', 'users'], 60], 0, 5, 60, 14],
        'circle-opacity': 0.85,
        'circle-stroke-color': '#0a1420',
        'circle-stroke-width': 1.5,
      },
    });
  }

  collection() {
    const features = this.points
      .filter((point) => point.location)
      .map((point) => ({
        type: 'Feature',
        geometry: point.location,
        properties: { id: point.id, name: point.name ?? point.id, state: point.state, users: point.users_now },
      }));
    return { type: 'FeatureCollection', features };
  }

  async refresh() {
    try {
      const [points, sites, tenants, byHotspot, tenantList] = await Promise.all([
        getJSON('/api/wifi/access-points'),
        getJSON('/api/wifi/sites'),
        getJSON('/api/wifi/figures?by=tenant'),
        getJSON('/api/wifi/figures?by=hotspot'),
        getJSON('/api/wifi/tenants'),
      ]);
      this.points = points;
      this.tenantNames = new Map(tenantList.map((tenant) => [tenant.slug, tenant.name]));
      for (const heading of this.headings) heading.textContent = t(`wifi.panel.${heading.dataset.key}`);
      this.context.map.getSource(SOURCE)?.setData(this.collection());
      this.drawTenants(tenants);
      this.drawSites(sites);
      this.drawChart(byHotspot);
      const simulated = points.some((point) => point.tenant === SIMULATED_TENANT);
      this.parts.simulated.hidden = !simulated;
      this.parts.simulated.textContent = t('wifi.panel.simulated');
      reportRecovery('wifi');
    } catch (error) {
      reportFailure('wifi', error);
    }
  }

  drawTenants(rows) {
    const head = h('tr', {}, ...['tenant', 'users_now', 'sessions', 'devices', 'volume', 'peak'].map((key) => h('th', {}, t(`wifi.figure.${key}`))));
    const body = rows.map((row) =>
      h('tr', {},
        h('td', {}, this.tenantNames.get(row.tenant) ?? row.tenant),
        h('td', { class: 'number' }, formatNumber(row.users_now, 0)),
        h('td', { class: 'number' }, formatNumber(row.sessions, 0)),
        h('td', { class: 'number' }, formatNumber(row.devices, 0)),
        h('td', { class: 'number' }, volume(row.bytes)),
        h('td', { class: 'number' }, formatNumber(row.peak_concurrency, 0))));
    this.parts.tenants.replaceChildren(head, ...body);
  }

  drawSites(sites) {
    this.parts.sites.replaceChildren(
      ...sites.map((site) =>
        h('li', { class: `wifi-site state-${site.state}`, 'data-state': site.state },
          h('span', { class: 'wifi-dot', style: `background: ${cssColor(STATE_COLORS[site.state])}` }),
          `${site.site} — ${t(`wifi.state.${site.state}`)} (${site.devices - site.down}/${site.devices})`)),
    );
  }

  drawChart(rows) {
    if (!this.context.visible()) return;
    const sorted = [...rows].sort((a, b) => b.users_now - a.users_now).slice(0, 12);
    const names = new Map(this.points.map((point) => [point.id, point.name ?? point.id]));
    this.chart.setOption({
      grid: { left: 8, right: 16, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: 'value', axisLabel: { color: cssColor('--muted') } },
      yAxis: { type: 'category', inverse: true, data: sorted.map((row) => names.get(row.hotspot) ?? row.hotspot), axisLabel: { color: cssColor('--muted') } },
      series: [{ type: 'bar', name: t('wifi.figure.users_now'), data: sorted.map((row) => row.users_now), itemStyle: { color: cssColor('--accent') } }],
      tooltip: { trigger: 'axis' },
    });
  }
}

export async function mount(root, context) {
  addStylesheet();
  const panel = new HotspotsPanel(root, context);
  await panel.refresh();
  setInterval(() => panel.refresh(), REFRESH_MS);
  context.onShow(() => panel.refresh());
}
