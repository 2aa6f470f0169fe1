// The province map: only the project's own GeoJSON (no tile server, no glyphs, no sprites), so
// every label is an HTML element and every symbol a circle layer.
import * as maplibregl from '/static/vendor/maplibre-gl/maplibre-gl.mjs';
import { getJSON, retrying } from './api.js';
import { cssColor, h } from './dom.js';
import { bounds, labelPoint } from './geometry.js';
import { formatDateTime, onLanguageChange, t } from './i18n.js';
import { reportFailure, reportRecovery } from './notices.js';

// Bình Dương, until the areas arrive.
const START = { center: [106.65, 11.17], zoom: 9 };

// The two boundary schemes the operator can switch between.
export const SCHEMES = {
  2025: { query: 'scheme=2025&level=ward', legend: 'legend.areas_2025', labelsFromZoom: 10.3 },
  legacy: { query: 'scheme=legacy&level=district', legend: 'legend.areas_legacy', labelsFromZoom: 0 },
};
const AREA_TONES = ['#17415f', '#1c4a6b', '#214f66', '#1a3f66', '#23496f'];
const ENTITY_REDRAW_MS = 250;

function emptyStyle() {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': cssColor('--map-bg') } }],
  };
}

function areaSourceId(scheme) {
  return `areas-${scheme}`;
}

export class MapView {
  constructor(container, catalogue) {
    this.container = container;
    this.catalogue = catalogue;
    this.scheme = '2025';
    this.entities = new Map(); // urn -> GeoJSON feature, kept current by the live feed
    this.areaNames = new Map(); // area code -> name, both schemes
    this.areaFeatures = {};
    this.labels = [];
    this.hovered = null;
    this.popup = null;
    this.redrawTimer = null;
  }

  async start() {
    this.map = new maplibregl.Map({
      container: this.container,
      style: emptyStyle(),
      ...START,
      attributionControl: { compact: true },
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      fadeDuration: 0,
      locale: { 'NavigationControl.ZoomIn': t('map.zoom_in'), 'NavigationControl.ZoomOut': t('map.zoom_out') },
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    this.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    await this.map.once('load');

    const load = (what, url) =>
      retrying(
        () => getJSON(url).then((data) => (reportRecovery(what), data)),
        (error) => reportFailure(what, error),
      );
    const [province, areas2025, areasLegacy, entities] = await Promise.all([
      load('/api/areas (province)', '/api/areas?scheme=legacy&level=province'),
      load('/api/areas (2025)', `/api/areas?${SCHEMES['2025'].query}`),
      load('/api/areas (legacy)', `/api/areas?${SCHEMES.legacy.query}`),
      load('/api/entities', '/api/entities'),
    ]);
    this.addAreas('2025', areas2025);
    this.addAreas('legacy', areasLegacy);
    this.addProvince(province);
    this.addEntities(entities);
    this.listen();
    this.setScheme('2025');
    this.renderLegend();
    this.extent = bounds(province.features.length ? province.features : areas2025.features);
    this.fitProvince();
    // Until someone moves the map (a hand, or a panel's "show on map"), the whole province stays in
    // view when its box changes size.
    this.map.on('movestart', () => {
      if (!this.fitting) this.operatorMoved = true;
    });
    this.map.on('resize', () => {
      if (!this.operatorMoved) this.fitProvince();
    });
    onLanguageChange(() => this.translate());
  }

  fitProvince() {
    if (!this.extent) return;
    this.fitting = true;
    this.map.fitBounds(this.extent, { padding: 24, animate: false });
    this.fitting = false;
  }

  addAreas(scheme, collection) {
    collection.features.forEach((feature, index) => {
      feature.properties.tone = index % AREA_TONES.length;
      this.areaNames.set(feature.properties.code, feature.properties.name);
    });
    this.areaFeatures[scheme] = collection.features;
    const source = areaSourceId(scheme);
    this.map.addSource(source, { type: 'geojson', data: collection, promoteId: 'code' });
    const tones = AREA_TONES.flatMap((color, index) => [index, color]);
    this.map.addLayer({
      id: `${source}-fill`,
      type: 'fill',
      source,
      layout: { visibility: 'none' },
      paint: {
        'fill-color': ['match', ['get', 'tone'], ...tones, AREA_TONES[0]],
        'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.95, 0.6],
      },
    });
    this.map.addLayer({
      id: `${source}-line`,
      type: 'line',
      source,
      layout: { visibility: 'none' },
      paint: { 'line-color': '#5b86a8', 'line-width': scheme === 'legacy' ? 1.6 : 1, 'line-opacity': 0.85 },
    });
  }

  addProvince(collection) {
    this.map.addSource('province', { type: 'geojson', data: collection });
    this.map.addLayer({
      id: 'province-line',
      type: 'line',
      source: 'province',
      paint: { 'line-color': '#9ed8ff', 'line-width': 2.5 },
    });
  }

  addEntities(collection) {
    for (const feature of collection.features) {
      if (feature.geometry) this.entities.set(feature.properties.urn, feature);
    }
    this.map.addSource('entities', { type: 'geojson', data: this.entityCollection() });
    this.map.addLayer({
      id: 'entities-circle',
      type: 'circle',
      source: 'entities',
      paint: {
        'circle-color': this.catalogue.colorExpression(),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 12, 7, 15, 10],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.5,
      },
    });
  }

  entityCollection() {
    return { type: 'FeatureCollection', features: [...this.entities.values()] };
  }

  listen() {
    this.map.on('zoom', () => this.updateLabelVisibility());
    for (const scheme of Object.keys(SCHEMES)) {
      const layer = `${areaSourceId(scheme)}-fill`;
      this.map.on('mousemove', layer, (event) => this.hoverArea(scheme, event.features[0]));
      this.map.on('mouseleave', layer, () => this.hoverArea(scheme, null));
      this.map.on('click', layer, (event) => this.hoverArea(scheme, event.features[0]));
    }
    this.map.on('mouseenter', 'entities-circle', () => (this.map.getCanvas().style.cursor = 'pointer'));
    this.map.on('mouseleave', 'entities-circle', () => (this.map.getCanvas().style.cursor = ''));
    this.map.on('click', 'entities-circle', (event) => this.openPopup(event.features[0].properties.urn));
    for (const button of document.querySelectorAll('[data-scheme]')) {
      button.addEventListener('click', () => this.setScheme(button.dataset.scheme));
    }
  }

  setScheme(scheme) {
    this.scheme = scheme;
    for (const name of Object.keys(SCHEMES)) {
      const visibility = name === scheme ? 'visible' : 'none';
      for (const suffix of ['fill', 'line']) {
        this.map.setLayoutProperty(`${areaSourceId(name)}-${suffix}`, 'visibility', visibility);
      }
    }
    for (const button of document.querySelectorAll('[data-scheme]')) {
      button.setAttribute('aria-pressed', String(button.dataset.scheme === scheme));
    }
    const legend = document.getElementById('legend-areas');
    legend.dataset.i18n = SCHEMES[scheme].legend;
    legend.textContent = t(SCHEMES[scheme].legend);
    this.hoverArea(scheme, null);
    this.drawLabels();
  }

  drawLabels() {
    for (const marker of this.labels) marker.remove();
    this.labels = [];
    for (const feature of this.areaFeatures[this.scheme] ?? []) {
      const point = labelPoint(feature.geometry);
      if (!point) continue;
      const element = h('div', { class: 'area-label' }, feature.properties.short_name ?? feature.properties.name);
      this.labels.push(new maplibregl.Marker({ element, anchor: 'center' }).setLngLat(point).addTo(this.map));
    }
    this.updateLabelVisibility();
  }

  updateLabelVisibility() {
    const shown = this.map.getZoom() >= SCHEMES[this.scheme].labelsFromZoom;
    this.container.dataset.labels = shown ? 'shown' : 'hidden';
  }

  hoverArea(scheme, feature) {
    const source = areaSourceId(scheme);
    if (this.hovered) this.map.setFeatureState(this.hovered, { hover: false });
    this.hovered = feature ? { source, id: feature.properties.code } : null;
    if (this.hovered) this.map.setFeatureState(this.hovered, { hover: true });
    this.hoveredArea = feature ? feature.properties : null;
    this.renderAreaInfo();
  }

  renderAreaInfo() {
    const box = document.getElementById('area-info');
    const area = this.hoveredArea;
    box.hidden = !area;
    if (!area) return;
    const details = [t(`area.level.${area.level}`), area.approximate ? t('area.approximate') : null];
    box.replaceChildren(h('strong', {}, area.name), h('small', {}, details.filter(Boolean).join(' · ')));
  }

  openPopup(urn) {
    const feature = this.entities.get(urn);
    if (!feature) return;
    this.popup?.remove();
    this.popup = new maplibregl.Popup({ maxWidth: '320px', focusAfterOpen: false })
      .setLngLat(feature.geometry.coordinates)
      .setDOMContent(this.popupContent(feature))
      .addTo(this.map);
    this.popup.urn = urn;
    this.popup.on('close', () => {
      if (this.popup?.urn === urn) this.popup = null;
    });
  }

  refreshPopup() {
    const feature = this.popup && this.entities.get(this.popup.urn);
    if (feature) this.popup.setDOMContent(this.popupContent(feature));
  }

  popupContent(feature) {
    const { urn, type, name, area_code: areaCode, latest = {} } = feature.properties;
    const metrics = Object.entries(latest).sort(([a], [b]) => a.localeCompare(b));
    const area = this.areaNames.get(areaCode);
    return h(
      'div',
      { class: 'popup', dataset: { urn } },
      h('h4', {}, name),
      h('p', {}, [this.catalogue.typeTitle(type), area].filter(Boolean).join(' · ')),
      metrics.length
        ? h(
            'dl',
            { title: t('popup.latest') },
            metrics.flatMap(([metric, { value, ts }]) => [
              h('dt', { title: formatDateTime(ts) }, this.catalogue.metricTitle(type, metric)),
              h('dd', {}, this.catalogue.formatValue(type, metric, value)),
            ]),
          )
        : h('p', {}, t('popup.no_data')),
    );
  }

  // Newest values from the live feed: kept on the features so a popup shows them when opened.
  updateLatest(series) {
    let touchesPopup = false;
    for (const point of series) {
      const feature = this.entities.get(point.entity);
      if (!feature) continue;
      feature.properties.latest ??= {};
      const known = feature.properties.latest[point.metric];
      if (!known || known.ts <= point.ts) feature.properties.latest[point.metric] = { value: point.value, ts: point.ts };
      touchesPopup ||= this.popup?.urn === point.entity;
    }
    if (touchesPopup) this.refreshPopup();
  }

  upsertEntity({ urn, type, name, lon, lat, area_code: areaCode }) {
    if (lon === null || lat === null || lon === undefined || lat === undefined) {
      this.entities.delete(urn);
    } else {
      const latest = this.entities.get(urn)?.properties.latest ?? {};
      this.entities.set(urn, {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { urn, type, name, area_code: areaCode, latest },
      });
    }
    // Many entities can arrive at once (a registration import): redraw at most a few times a second.
    this.redrawTimer ??= setTimeout(() => {
      this.redrawTimer = null;
      this.map.getSource('entities')?.setData(this.entityCollection());
      this.refreshPopup();
    }, ENTITY_REDRAW_MS);
  }

  renderLegend() {
    const list = document.getElementById('legend-types');
    list.replaceChildren(
      ...[...this.catalogue.types.values()].map((entityType) =>
        h(
          'li',
          { dataset: { type: entityType.type } },
          h('span', { class: 'swatch', style: { '--swatch': entityType.color }, 'aria-hidden': 'true' }),
          h('span', {}, this.catalogue.typeTitle(entityType.type)),
        ),
      ),
    );
  }

  translate() {
    this.renderLegend();
    this.renderAreaInfo();
    this.refreshPopup();
    const titles = { '.maplibregl-ctrl-zoom-in': 'map.zoom_in', '.maplibregl-ctrl-zoom-out': 'map.zoom_out' };
    for (const [selector, key] of Object.entries(titles)) {
      const button = this.container.querySelector(selector);
      if (button) {
        button.title = t(key);
        button.setAttribute('aria-label', t(key));
      }
    }
  }
}
