// The public-services panel: the Decision 766 index and its groups against their maxima, the year's
// targets with gap and year-end projection, localities coloured by score, channel mix, monthly trends,
// agencies ranked, and the late / due-soon dossiers with their apology letters.
// Everything comes from GET /api/services/panel (one answer); the shapes from GET /api/areas.
import * as echarts from '/static/vendor/echarts/echarts.esm.min.mjs';
import { getJSON } from '/static/js/api.js';
import { h } from '/static/js/dom.js';
import { currentLanguage, formatNumber, formatTime, onLanguageChange, pick, t } from '/static/js/i18n.js';
import { reportFailure, reportRecovery } from '/static/js/notices.js';
import {
  agenciesOption,
  bandOf,
  channelsOption,
  choroplethOption,
  gaugeOption,
  groupsOption,
  percent,
  points,
  trendsOption,
} from './charts.js';
import { dossierTable } from './dossier_list.js';

const REFRESH_MS = 30_000;
const SOURCE = '/api/services/panel';
const LOCALES = { vi: 'vi-VN', en: 'en-GB', ja: 'ja-JP' };
const AREA_LEVEL = { legacy: 'district', 2025: 'ward' };

function text(key, vars) {
  return t(`services.${key}`, vars);
}

function stylesheet() {
  const href = new URL('./panel.css', import.meta.url).pathname;
  if (document.querySelector(`link[href="${href}"]`)) return Promise.resolve();
  const link = h('link', { rel: 'stylesheet', href });
  const loaded = new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
  });
  document.head.append(link);
  return loaded;
}

function card(name, wide = false) {
  const title = h('h4', { class: 'svc-card-title' });
  const element = h('article', { class: `svc-card svc-card-${name}${wide ? ' svc-wide' : ''}`, dataset: { card: name } }, title);
  return { element, title };
}

class ServicesPanel {
  constructor(root, context) {
    this.root = root;
    this.context = context;
    this.data = null;
    this.period = null; // null: the server's default, the running year
    this.periods = null; // what the period selector offers, from the first answer
    this.dossierState = 'late';
    this.charts = {};
    this.maps = new Map(); // scheme -> Promise of the registered map's name
    this.dirty = false;
    this.loadedAt = 0;
    this.build();
  }

  build() {
    this.title = h('h3', { class: 'svc-title' });
    this.simulated = h('span', { class: 'svc-simulated', hidden: true });
    this.periodLabel = h('label', { class: 'svc-period-label', for: 'svc-period' });
    this.periodSelect = h('select', { id: 'svc-period', class: 'svc-period' });
    this.periodSelect.addEventListener('change', () => {
      this.period = this.periodSelect.value;
      this.refresh();
    });
    this.updated = h('span', { class: 'svc-updated' });
    this.failure = h('p', { class: 'svc-failure', role: 'alert', hidden: true });

    const index = card('index');
    this.indexCard = index;
    this.gaugeBox = h('div', { class: 'svc-chart svc-gauge', dataset: { chart: 'gauge' } });
    this.indexFacts = h('div', { class: 'svc-index-facts' });
    this.trio = h('dl', { class: 'svc-trio' });
    index.element.append(this.gaugeBox, this.indexFacts, this.trio);

    const groups = card('groups');
    this.groupsCard = groups;
    this.groupsBox = h('div', { class: 'svc-chart svc-groups-chart', dataset: { chart: 'groups' } });
    groups.element.append(this.groupsBox);

    const targets = card('targets');
    this.targetsCard = targets;
    this.targetsBody = h('div', { class: 'svc-targets-body' });
    targets.element.append(this.targetsBody);

    const map = card('map', true);
    this.mapCard = map;
    this.mapBox = h('div', { class: 'svc-chart svc-map-chart', dataset: { chart: 'map' } });
    this.mapNote = h('p', { class: 'svc-note' });
    map.element.append(this.mapBox, this.mapNote);

    const channels = card('channels');
    this.channelsCard = channels;
    this.channelsBox = h('div', { class: 'svc-chart svc-channels-chart', dataset: { chart: 'channels' } });
    channels.element.append(this.channelsBox);

    const trends = card('trends', true);
    this.trendsCard = trends;
    this.trendsBox = h('div', { class: 'svc-chart svc-trends-chart', dataset: { chart: 'trends' } });
    trends.element.append(this.trendsBox);

    const agencies = card('agencies', true);
    this.agenciesCard = agencies;
    this.agenciesBox = h('div', { class: 'svc-chart svc-agencies-chart', dataset: { chart: 'agencies' } });
    agencies.element.append(this.agenciesBox);

    const dossiers = card('dossiers', true);
    this.dossiersCard = dossiers;
    this.dossierTabs = h('div', { class: 'svc-dossier-tabs', role: 'group' });
    this.dossierBody = h('div', { class: 'svc-dossier-body' });
    dossiers.element.append(this.dossierTabs, this.dossierBody);

    this.boxes = {
      gauge: this.gaugeBox,
      groups: this.groupsBox,
      map: this.mapBox,
      channels: this.channelsBox,
      trends: this.trendsBox,
      agencies: this.agenciesBox,
    };
    this.element = h(
      'div',
      { class: 'svc-panel', dataset: { state: 'loading' } },
      h('header', { class: 'svc-head' }, this.title, this.simulated, h('span', { class: 'svc-spacer' }), h('span', { class: 'svc-period-box' }, this.periodLabel, this.periodSelect), this.updated),
      this.failure,
      h(
        'div',
        { class: 'svc-grid' },
        index.element,
        groups.element,
        targets.element,
        map.element,
        channels.element,
        trends.element,
        agencies.element,
        dossiers.element,
      ),
    );
    this.root.append(this.element);
  }

  async start() {
    await stylesheet();
    this.renderTexts();
    await this.refresh();
    setInterval(() => this.tick(), REFRESH_MS);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.context.visible() && this.stale()) this.refresh();
    });
    this.context.onShow(() => this.shown());
    onLanguageChange(() => this.render());
    const observer = new ResizeObserver(() => this.resize());
    for (const box of Object.values(this.boxes)) observer.observe(box);
  }

  stale() {
    return Date.now() - this.loadedAt >= REFRESH_MS;
  }

  tick() {
    if (this.context.visible() && !document.hidden) this.refresh();
  }

  shown() {
    if (this.stale()) this.refresh();
    else if (this.dirty) this.drawCharts();
    this.resize();
  }

  resize() {
    for (const chart of Object.values(this.charts)) chart.resize();
  }

  async refresh() {
    const url = this.period ? `${SOURCE}?period=${encodeURIComponent(this.period)}` : SOURCE;
    try {
      const data = await getJSON(url);
      await this.mapFor(data.localities.scheme).catch((error) => reportFailure('/api/areas', error));
      this.data = data;
      this.loadedAt = Date.now();
      this.periods ??= offeredPeriods(data);
      this.failure.hidden = true;
      reportRecovery(SOURCE);
      this.render();
    } catch (error) {
      this.failure.hidden = false;
      this.failure.textContent = text('panel.load_failed');
      this.element.dataset.state = this.data ? 'stale' : 'failed';
      reportFailure(SOURCE, error);
    }
  }

  // Registers the scheme's shapes (legacy districts or 2025 wards) once, as an ECharts map.
  mapFor(scheme) {
    if (!this.maps.has(scheme)) {
      const name = `services-${scheme}`;
      const loading = getJSON(`/api/areas?scheme=${scheme}&level=${AREA_LEVEL[scheme]}`).then((collection) => {
        const features = collection.features.filter((feature) => feature.geometry);
        echarts.registerMap(name, { type: 'FeatureCollection', features });
        this.approximate = features.some((feature) => feature.properties.approximate);
        return name;
      });
      loading.catch(() => this.maps.delete(scheme));
      this.maps.set(scheme, loading);
    }
    return this.maps.get(scheme);
  }

  render() {
    this.renderTexts();
    if (!this.data) return;
    const { data } = this;
    this.element.dataset.state = 'ready';
    this.element.dataset.period = data.period;
    this.element.dataset.loadedAt = String(this.loadedAt);
    this.simulated.hidden = !data.simulated;
    this.updated.textContent = text('panel.updated', { time: formatTime(this.loadedAt) });
    this.renderPeriods();
    this.renderIndexFacts(data.province);
    this.renderTargets(data.province);
    this.renderDossiers();
    this.mapNote.textContent = [
      text('panel.colour_scale'),
      text(`panel.scheme_${data.localities.scheme}`),
      this.approximate ? t('legend.approximate') : null,
    ]
      .filter(Boolean)
      .join(' · ');
    if (this.context.visible()) this.drawCharts();
    else this.dirty = true;
  }

  renderTexts() {
    this.title.textContent = text('panel.title');
    this.simulated.textContent = text('panel.simulated');
    this.periodLabel.textContent = text('panel.period');
    this.indexCard.title.textContent = text('panel.index');
    this.groupsCard.title.textContent = text('panel.groups');
    this.targetsCard.title.textContent = text('panel.targets');
    this.mapCard.title.textContent = text('panel.localities');
    this.channelsCard.title.textContent = text('panel.channels');
    this.trendsCard.title.textContent = text('panel.trends');
    this.agenciesCard.title.textContent = text('panel.agencies');
    this.dossiersCard.title.textContent = text('panel.dossiers');
  }

  renderPeriods() {
    const chosen = this.data.period;
    const options = this.periods.includes(chosen) ? this.periods : [chosen, ...this.periods];
    // Rebuilt only when something changed: a refresh must not close the list under the operator's hand.
    const signature = [currentLanguage(), chosen, ...options].join('|');
    if (signature === this.periodSignature) return;
    this.periodSignature = signature;
    this.periodSelect.replaceChildren(
      ...options.map((key) => h('option', { value: key, selected: key === chosen }, periodLabel(key))),
    );
  }

  renderIndexFacts(province) {
    const band = bandOf(province.index);
    const facts = [
      h(
        'p',
        { class: 'svc-band', dataset: { band: province.band?.id ?? 'none' }, style: band ? { color: band.color } : {} },
        province.band ? pick(province.band.name) : text('panel.no_data'),
      ),
      h('p', { class: 'svc-points' }, text('panel.points_of', { points: points(province.points), available: points(province.available_points) })),
    ];
    if (province.projection) {
      facts.push(
        h('p', { class: 'svc-projection' }, text('panel.projected_index', { year: province.projection.year, index: points(province.projection.index) })),
      );
    }
    this.indexFacts.replaceChildren(...facts);
    this.trio.replaceChildren(
      ...['digital_take_up', 'completion_rate', 'user_satisfaction'].flatMap((key) => [
        h('dt', {}, text(`trio.${key}`)),
        h('dd', { dataset: { trio: key } }, percent(province.trio[key])),
      ]),
    );
  }

  renderTargets(province) {
    const year = province.period.slice(0, 4);
    const targets =
      province.targets.length === 0
        ? h('p', { class: 'svc-empty' }, text('panel.no_targets', { year }))
        : h('ul', { class: 'svc-targets' }, province.targets.map(targetItem));
    this.targetsBody.replaceChildren(...[targets, indicatorGaps(province.indicators)].filter(Boolean));
  }

  renderDossiers() {
    const lists = { late: this.data.late, due_soon: this.data.due_soon };
    const totals = { late: this.data.province.counts.overdue, due_soon: this.data.province.counts.due_soon };
    this.dossierTabs.replaceChildren(
      ...Object.keys(lists).map((state) => {
        const button = h(
          'button',
          { type: 'button', class: 'svc-dossier-tab', 'aria-pressed': String(state === this.dossierState), dataset: { state } },
          `${text(`panel.${state}`)} (${formatNumber(Math.max(totals[state], lists[state].length), 0)})`,
        );
        button.addEventListener('click', () => {
          this.dossierState = state;
          this.renderDossiers();
        });
        return button;
      }),
    );
    const items = lists[this.dossierState];
    const total = Math.max(totals[this.dossierState], items.length);
    const table = dossierTable(items, this.dossierState);
    if (total > items.length) {
      this.dossierBody.replaceChildren(table, h('p', { class: 'svc-note' }, text('panel.showing', { shown: items.length, total })));
    } else {
      this.dossierBody.replaceChildren(table);
    }
  }

  chart(name) {
    this.charts[name] ??= echarts.init(this.boxes[name], null, { renderer: 'svg' });
    return this.charts[name];
  }

  drawCharts() {
    this.dirty = false;
    const { data } = this;
    const province = data.province;
    this.chart('gauge').setOption(gaugeOption(province), true);
    this.chart('groups').setOption(groupsOption(province), true);
    this.chart('channels').setOption(channelsOption(data.channels), true);
    this.chart('trends').setOption(trendsOption(data.trends, monthLabel), true);
    this.chart('agencies').setOption(agenciesOption(data.agencies, this.agenciesBox.clientWidth), true);
    const scheme = data.localities.scheme;
    this.mapFor(scheme).then(
      (name) => {
        if (this.data !== data) return; // a newer answer draws its own
        // Same shapes: merge, so the operator's zoom and pan survive the refresh.
        this.chart('map').setOption(choroplethOption(name, data.localities.items), this.mapDrawn !== name);
        this.mapDrawn = name;
        this.element.dataset.drawn = String(this.loadedAt);
      },
      (error) => reportFailure('/api/areas', error),
    );
  }
}

const width = (ratio) => `${Math.max(0, Math.min(100, (ratio ?? 0) * 100))}%`;

function targetItem(target) {
  const state = target.value === null ? 'unknown' : target.met ? 'met' : 'missed';
  const track = target.on_track === null ? 'unknown' : target.on_track ? 'on' : 'off';
  const gap = target.gap === null ? '—' : target.gap > 0 ? percent(target.gap) : text('panel.gap_none');
  return h(
    'li',
    { class: 'svc-target', dataset: { target: target.id, state, track } },
    h(
      'div',
      { class: 'svc-target-name' },
      pick(target.name),
      ' ',
      h('small', { class: 'svc-target-plan' }, text('panel.target_plan', { year: target.year })),
    ),
    h(
      'div',
      { class: 'svc-bar', role: 'img', 'aria-label': `${percent(target.value)} / ${percent(target.minimum)}` },
      h('span', { class: 'svc-bar-fill', style: { width: width(target.value) } }),
      target.projected_year_end === null
        ? null
        : h('span', { class: 'svc-bar-projection', style: { left: width(target.projected_year_end) } }),
      h('span', { class: 'svc-bar-minimum', style: { left: width(target.minimum) } }),
    ),
    h('span', { class: 'svc-track', dataset: { track } }, text(`panel.track_${track}`)),
    h(
      'dl',
      { class: 'svc-target-figures' },
      h('dt', {}, text('panel.value')),
      h('dd', { class: 'svc-target-value' }, percent(target.value)),
      h('dt', {}, text('panel.minimum')),
      h('dd', {}, percent(target.minimum)),
      h('dt', {}, text('panel.gap')),
      h('dd', { class: 'svc-target-gap' }, gap),
      h('dt', {}, text('panel.projection')),
      h('dd', { class: 'svc-target-projection' }, percent(target.projected_year_end)),
    ),
  );
}

// The Decision 766 indicators that lose the most points, each against the level that earns full points.
function indicatorGaps(indicators) {
  const losing = indicators
    .filter((i) => i.max_points > 0 && i.points !== null && i.max_points - i.points >= 0.05)
    .sort((a, b) => b.max_points - b.points - (a.max_points - a.points))
    .slice(0, 5);
  if (losing.length === 0) return null;
  return h(
    'section',
    { class: 'svc-indicator-gaps' },
    h('h5', {}, text('panel.indicator_gaps')),
    h(
      'ul',
      {},
      losing.map((indicator) => {
        const ratio = indicator.value !== null && indicator.value <= 1 && indicator.threshold <= 1;
        return h(
          'li',
          { dataset: { indicator: indicator.id } },
          h('span', { class: 'svc-indicator-name' }, h('span', { dataset: { code: indicator.id } }, indicator.id), ` ${pick(indicator.name)}`),
          h(
            'span',
            { class: 'svc-indicator-lost' },
            text('panel.points_lost_of', {
              lost: points(indicator.max_points - indicator.points),
              max: points(indicator.max_points),
            }),
          ),
          ratio
            ? h(
                'div',
                {
                  class: 'svc-bar svc-bar-thin',
                  role: 'img',
                  'aria-label': `${percent(indicator.value)} / ${percent(indicator.threshold)}`,
                  title: `${percent(indicator.value)} / ${text('panel.threshold')} ${percent(indicator.threshold)}`,
                },
                h('span', { class: 'svc-bar-fill', style: { width: width(indicator.value) } }),
                h('span', { class: 'svc-bar-minimum', style: { left: width(indicator.threshold) } }),
              )
            : null,
        );
      }),
    ),
  );
}

// Periods offered: the year of the first answer and the one before, its quarters and months so far.
function offeredPeriods(data) {
  const year = Number(data.period.slice(0, 4));
  const months = data.trends.map((row) => row.period);
  const quarters = [...new Set(months.map((key) => `${year}-Q${Math.ceil(Number(key.slice(5)) / 3)}`))];
  return [String(year), String(year - 1), ...quarters.reverse(), ...[...months].reverse()];
}

function monthLabel(key) {
  const [year, month] = key.split('-').map(Number);
  return new Intl.DateTimeFormat(LOCALES[currentLanguage()], { month: 'short', timeZone: 'UTC' }).format(
    Date.UTC(year, month - 1, 15),
  );
}

function periodLabel(key) {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(key);
  if (quarter) return text('panel.quarter', { year: quarter[1], quarter: quarter[2] });
  const month = /^(\d{4})-(\d{2})$/.exec(key);
  if (month) {
    return new Intl.DateTimeFormat(LOCALES[currentLanguage()], { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
      Date.UTC(Number(month[1]), Number(month[2]) - 1, 15),
    );
  }
  return key;
}

export async function mount(root, context) {
  const panel = new ServicesPanel(root, context);
  await panel.start();
  return panel;
}
