// The dashboard: wires the map, the indicator strip and the live feed to the API.
import { getJSON, onUnauthorized, retrying } from './api.js';
import { sessionLost, signedIn, wireUserControls } from './auth.js';
import { Catalogue } from './catalogue.js';
import { LiveFeed } from './feed.js';
import { LANGUAGES, TIME_ZONE, currentLanguage, onLanguageChange, storedLanguage, useLanguage } from './i18n.js';
import { IncidentLayer } from './incident_layer.js';
import { IncidentsPanel } from './incidents.js';
import { IndicatorStrip } from './indicators.js';
import { MapView } from './map.js';
import { reportFailure, reportRecovery } from './notices.js';
import { DomainPanels, LiveEvents } from './panels.js';

function showSimulated(simulated) {
  if (simulated) document.getElementById('simulated-banner').hidden = false;
}

function wireLanguageButtons() {
  const buttons = document.querySelectorAll('[data-lang]');
  const press = () => {
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset.lang === currentLanguage()));
  };
  for (const button of buttons) {
    button.addEventListener('click', () => {
      if (LANGUAGES.includes(button.dataset.lang)) {
        useLanguage(button.dataset.lang).catch((error) => reportFailure(`/api/translations/${button.dataset.lang}`, error));
      }
    });
  }
  onLanguageChange(press);
  press();
}

function startClock() {
  const clock = document.getElementById('clock');
  const tick = () => {
    const now = new Date();
    clock.dateTime = now.toISOString();
    clock.textContent = new Intl.DateTimeFormat(document.documentElement.lang, {
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE,
    }).format(now);
  };
  tick();
  setInterval(tick, 1000);
}

async function main() {
  const language = storedLanguage(document.body.dataset.language);
  await retrying(() => useLanguage(language), (error) => reportFailure(`/api/translations/${language}`, error));
  wireLanguageButtons();
  wireUserControls();
  startClock();
  const principal = await retrying(signedIn, (error) => reportFailure('/api/auth/me', error));
  reportRecovery('/api/auth/me');
  onUnauthorized(sessionLost);

  const meta = await retrying(
    () => getJSON('/api/meta').then((data) => (reportRecovery('/api/meta'), data)),
    (error) => reportFailure('/api/meta', error),
  );
  const catalogue = new Catalogue(meta);
  showSimulated(catalogue.simulated);

  const mapView = new MapView(document.getElementById('map'), catalogue);
  const events = new LiveEvents();
  let incidentLayer = null;
  const panel = new IncidentsPanel(
    {
      root: document.getElementById('incidents-panel'),
      counts: document.getElementById('incidents-counts'),
      listView: document.getElementById('incidents-list-view'),
      detailView: document.getElementById('incident-detail'),
      alertsSection: document.getElementById('alerts-section'),
      alertList: document.getElementById('alert-list'),
      alertEmpty: document.getElementById('alerts-empty'),
      incidentList: document.getElementById('incident-list'),
      incidentEmpty: document.getElementById('incidents-empty'),
    },
    principal,
    { onRefreshed: () => incidentLayer?.refresh(), areaName: (code) => mapView.areaNames.get(code) },
  );
  const feed = new LiveFeed(
    {
      list: document.getElementById('feed'),
      empty: document.getElementById('feed-empty'),
      rateText: document.getElementById('feed-rate'),
      rateChart: document.getElementById('feed-rate-chart'),
      connection: document.getElementById('connection'),
    },
    catalogue,
    {
      hello: (hello) => showSimulated(hello.simulated),
      observations: (batch) => {
        if (mapView.map) mapView.updateLatest(batch.series);
        events.emit('observations', batch);
      },
      entity: (entity) => {
        if (mapView.map) mapView.upsertEntity(entity);
        events.emit('entity', entity);
      },
      alert: (alert) => {
        panel.changed();
        events.emit('alert', alert);
      },
      incident: (incident) => {
        panel.changed();
        events.emit('incident', incident);
      },
    },
  );
  feed.start();
  panel.start();
  new IndicatorStrip(document.getElementById('indicator-tiles')).start();
  await mapView.start();
  incidentLayer = new IncidentLayer(mapView.map, (id) => panel.openDetail(id));
  await incidentLayer.refresh();
  const domainPanels = new DomainPanels(
    {
      root: document.getElementById('domain-panels'),
      tabs: document.getElementById('workspace-tabs'),
      body: document.getElementById('domain-panel-body'),
      mapTab: document.getElementById('workspace-tab-map'),
      mapPanel: document.getElementById('map-panel'),
    },
    { map: mapView.map, mapView, catalogue, principal, on: (type, handler) => events.on(type, handler) },
  );
  await domainPanels.mountAll(meta.panels ?? []);
  window.cityopsMap = mapView.map;
  window.cityopsDashboard = { mapView, feed, catalogue, panel, incidentLayer, domainPanels };
  document.body.dataset.ready = 'true';
}

main();
