// Domain panels: each domain may ship ES modules (`Domain.panels`) that export `mount(root, context)`.
// The dashboard lays them out as tabs beside the map's tab, in the map's box (so the page never scrolls
// on a wall or a laptop), and hands every one the same context:
//   context.map        the MapLibre map (add sources and layers with ids prefixed by the domain name)
//   context.showMap()  bring the map's tab to the front (before flying to a place); a button on the map
//                      leads back to the panel, so the operator needs no tab to return
//   context.mapView    the kernel's MapView (area names, schemes)
//   context.catalogue  domains, entity types and metrics from /api/meta
//   context.principal  who is signed in ({name, role, ...})
//   context.on(type, handler)  live events: 'observations', 'entity', 'alert', 'incident'
//   context.visible()  whether the panel's tab is the one shown (skip drawing charts while hidden)
//   context.onShow(handler)    called when the tab is shown (charts need a resize then)
// Panels import the kernel's helpers (api.js, dom.js, i18n.js) by absolute URL.
import { h } from './dom.js';
import { onLanguageChange, pick, t } from './i18n.js';
import { reportFailure } from './notices.js';

export class LiveEvents {
  constructor() {
    this.handlers = new Map();
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
  }

  emit(type, data) {
    for (const handler of this.handlers.get(type) ?? []) {
      try {
        handler(data);
      } catch (error) {
        console.error(`panel handler for ${type} failed`, error);
      }
    }
  }
}

export class DomainPanels {
  // `mapTab`: the map's own tab, shown first; the panels cover it when chosen. `mapPanel`: where the
  // button back to a panel that showed the map sits.
  constructor({ root, tabs, body, mapTab, mapPanel }, shared) {
    Object.assign(this, { root, tabs, body, mapTab });
    this.shared = shared;
    this.entries = [];
    this.returnTo = null;
    this.back = h('button', { type: 'button', class: 'map-back', hidden: true });
    this.back.addEventListener('click', () => this.show(this.returnTo));
    mapPanel.append(this.back);
    this.mapTab.addEventListener('click', () => this.show(null));
  }

  // The map, from a panel's "show on map": with a way back to that panel.
  showMapFrom(entry) {
    this.show(null);
    this.returnTo = entry;
    this.relabelBack();
    this.back.hidden = false;
  }

  relabelBack() {
    if (this.returnTo) this.back.textContent = t('panels.back_to', { panel: pick(this.returnTo.panel.title) });
  }

  async mountAll(panels) {
    if (panels.length === 0) return;
    for (const panel of panels) this.add(panel);
    onLanguageChange(() => this.retitle());
    this.show(null);
    await Promise.all(this.entries.map((entry) => this.load(entry)));
  }

  add(panel) {
    const key = `${panel.domain}-${panel.id}`;
    const tab = h('button', {
      type: 'button', role: 'tab', id: `panel-tab-${key}`, 'aria-controls': `panel-${key}`, 'aria-selected': 'false',
    }, pick(panel.title));
    const section = h('section', {
      id: `panel-${key}`, class: 'domain-panel', role: 'tabpanel', 'aria-labelledby': `panel-tab-${key}`,
      dataset: { domain: panel.domain, panel: panel.id }, hidden: true,
    });
    const entry = { panel, tab, section, showHandlers: new Set() };
    tab.addEventListener('click', () => this.show(entry));
    this.tabs.append(tab);
    this.body.append(section);
    this.entries.push(entry);
  }

  // `entry` null: the map. The map stays laid out underneath, so flying to a place works from a panel.
  show(entry) {
    this.returnTo = null;
    this.back.hidden = true;
    this.mapTab.setAttribute('aria-selected', String(entry === null));
    this.root.hidden = entry === null;
    for (const other of this.entries) {
      const selected = other === entry;
      other.tab.setAttribute('aria-selected', String(selected));
      other.section.hidden = !selected;
    }
    if (entry) for (const handler of entry.showHandlers) handler();
  }

  retitle() {
    for (const entry of this.entries) entry.tab.textContent = pick(entry.panel.title);
    this.relabelBack();
  }

  async load(entry) {
    const { panel, section } = entry;
    try {
      const module = await import(panel.module);
      await module.mount(section, {
        ...this.shared,
        showMap: () => this.showMapFrom(entry),
        visible: () => !section.hidden,
        onShow: (handler) => entry.showHandlers.add(handler),
      });
      section.dataset.ready = 'true';
    } catch (error) {
      section.dataset.ready = 'failed';
      reportFailure(panel.module, error);
    }
  }
}
