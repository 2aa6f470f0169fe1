// The economy panel: each series against its target and last year (table and a monthly chart), the
// investing countries and sectors ranked, and the programme's status board with its late milestones.
// Everything comes from GET /api/economy/panel; texts from the domain's translations.
import * as echarts from '/static/vendor/echarts/echarts.esm.min.mjs';
import { getJSON } from '/static/js/api.js';
import { h } from '/static/js/dom.js';
import { currentLanguage, formatNumber, onLanguageChange, pick, t } from '/static/js/i18n.js';
import { reportFailure, reportRecovery } from '/static/js/notices.js';

const SOURCE = '/api/economy/panel';
const REFRESH_MS = 5 * 60_000;
const COLORS = { thisYear: '#3fb4ff', lastYear: '#6b7f93', done: '#2fbf71', open: '#3fb4ff', late: '#ef4f4f' };

function text(key, vars) {
  return t(`economy.${key}`, vars);
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

function signed(value) {
  if (value === null || value === undefined) return '–';
  return `${value > 0 ? '+' : ''}${formatNumber(value, 2)} %`;
}

function card(name, width = '') {
  const title = h('h4', { class: 'eco-card-title' });
  const element = h('article', { class: `eco-card${width ? ` eco-${width}` : ''}`, dataset: { card: name } }, title);
  return { element, title };
}

class EconomyPanel {
  constructor(root, context) {
    Object.assign(this, { root, context, data: null, charts: {}, chosen: null, dirty: false });
    this.build();
  }

  build() {
    this.title = h('h3', { class: 'eco-title' });
    this.simulated = h('span', { class: 'eco-simulated', hidden: true });
    this.failure = h('p', { class: 'eco-failure', role: 'alert', hidden: true });
    this.seriesCard = card('series', 'full');
    this.table = h('table', { class: 'eco-table' });
    this.seriesCard.element.append(this.table);
    this.monthsCard = card('months', 'wide');
    this.seriesSelect = h('select', { class: 'eco-select', 'aria-label': 'series' });
    this.seriesSelect.addEventListener('change', () => {
      this.chosen = this.seriesSelect.value;
      this.drawCharts();
    });
    this.monthsBox = h('div', { class: 'eco-chart eco-months', dataset: { chart: 'months' } });
    this.monthsCard.element.append(this.seriesSelect, this.monthsBox);
    this.countriesCard = card('countries');
    this.countriesBox = h('div', { class: 'eco-chart eco-ranking', dataset: { chart: 'countries' } });
    this.published = h('p', { class: 'eco-note eco-published' });
    this.countriesCard.element.append(this.countriesBox, this.published);
    this.sectorsCard = card('sectors');
    this.sectorsBox = h('div', { class: 'eco-chart eco-ranking', dataset: { chart: 'sectors' } });
    this.sectorsCard.element.append(this.sectorsBox);
    this.programmeCard = card('programme', 'full');
    this.programmeBox = h('div', { class: 'eco-chart eco-programme', dataset: { chart: 'programme' } });
    this.board = h('table', { class: 'eco-table eco-board' });
    this.programmeCard.element.append(this.programmeBox, this.board);
    this.boxes = [this.monthsBox, this.countriesBox, this.sectorsBox, this.programmeBox];
    this.element = h(
      'div',
      { class: 'eco-panel', dataset: { state: 'loading' } },
      h('header', { class: 'eco-head' }, this.title, this.simulated),
      this.failure,
      h('div', { class: 'eco-grid' }, this.seriesCard.element, this.monthsCard.element, this.countriesCard.element,
        this.sectorsCard.element, this.programmeCard.element),
    );
    this.root.append(this.element);
  }

  async start() {
    await stylesheet();
    await this.refresh();
    setInterval(() => this.context.visible() && !document.hidden && this.refresh(), REFRESH_MS);
    this.context.onShow(() => {
      if (this.dirty) this.drawCharts();
      for (const chart of Object.values(this.charts)) chart.resize();
    });
    onLanguageChange(() => this.render());
    const observer = new ResizeObserver(() => Object.values(this.charts).forEach((chart) => chart.resize()));
    for (const box of this.boxes) observer.observe(box);
  }

  async refresh() {
    try {
      this.data = await getJSON(SOURCE);
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

  render() {
    this.title.textContent = text('panel.title', { year: this.data?.year ?? '' });
    this.simulated.textContent = text('panel.simulated');
    this.seriesCard.title.textContent = text('panel.series');
    this.monthsCard.title.textContent = text('panel.months');
    this.countriesCard.title.textContent = text('panel.countries');
    this.sectorsCard.title.textContent = text('panel.sectors');
    this.programmeCard.title.textContent = text('panel.programme');
    if (!this.data) return;
    this.simulated.hidden = !this.data.simulated;
    this.renderSeries();
    this.renderPublished();
    this.renderBoard();
    this.element.dataset.state = 'ready';
    if (this.context.visible()) this.drawCharts();
    else this.dirty = true;
  }

  renderSeries() {
    const head = h('tr', {}, ...['series', 'period', 'value', 'change', 'last_year', 'target', 'source']
      .map((key) => h('th', { scope: 'col' }, text(`panel.col_${key}`))));
    const rows = this.data.series.map((row) => {
      const unit = pick(row.series.unit_title);
      const value = row.value === null ? '–' : `${row.qualifier ? `${text(`panel.${row.qualifier}`)} ` : ''}${formatNumber(row.value)} ${unit}`;
      const change = row.change_published_pct !== null
        ? `${signed(row.change_published_pct)} ${text('panel.published_mark')}`
        : signed(row.change_computed_pct);
      const tag = row.period === null ? '' : text(row.simulated ? 'panel.simulated_row' : 'panel.published_row');
      return h('tr', { dataset: { series: row.series.code, simulated: String(row.simulated) } },
        h('th', { scope: 'row' }, pick(row.series.title)),
        h('td', {}, row.period_label ? pick(row.period_label) : text('panel.no_data')),
        h('td', { class: 'eco-num' }, value),
        h('td', { class: 'eco-num', dataset: { sign: String(Math.sign(row.change_pct ?? 0)) } }, change),
        h('td', { class: 'eco-num' }, row.last_year === null ? '–' : `${formatNumber(row.last_year)} ${unit}`),
        h('td', { class: 'eco-num' }, targetText(row.target, unit)),
        h('td', { class: 'eco-source', title: row.source ?? '' }, tag ? h('span', { class: `eco-tag eco-tag-${row.simulated ? 'simulated' : 'published'}` }, tag) : ''));
    });
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
    const options = this.data.series.filter((row) => row.months.this_year.some((v) => v !== null) || row.months.last_year.some((v) => v !== null));
    if (!options.some((row) => row.series.code === this.chosen)) this.chosen = options[0]?.series.code ?? null;
    this.seriesSelect.replaceChildren(...options.map((row) => h('option', { value: row.series.code }, pick(row.series.title))));
    if (this.chosen) this.seriesSelect.value = this.chosen;
  }

  renderPublished() {
    this.published.replaceChildren(...this.data.published_countries.map((row) => h('span', { dataset: { country: row.country } },
      text('panel.published_country', {
        country: pick(row.name), rank: row.rank, of: row.of_countries, projects: row.projects,
        capital: formatNumber(row.registered_musd / 1000, 1), as_of: row.as_of,
      }))));
  }

  renderBoard() {
    const head = h('tr', {}, ...['project', 'partner', 'status', 'late', 'next']
      .map((key) => h('th', { scope: 'col' }, text(`panel.board_${key}`))));
    const rows = this.data.programme.map((project) => {
      const next = project.milestones.find((m) => !m.done);
      return h('tr', { dataset: { project: project.code, late: String(project.late_milestones) } },
        h('th', { scope: 'row' }, pick(project.title)),
        h('td', {}, project.partner),
        h('td', {}, text(`status.${project.status}`)),
        h('td', { class: project.late_milestones ? 'eco-late' : '' }, String(project.late_milestones)),
        h('td', {}, next ? `${pick(next.title)} (${next.due})` : '–'));
    });
    this.board.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
  }

  chart(name, box) {
    this.charts[name] ??= echarts.init(box, null, { renderer: 'svg' });
    return this.charts[name];
  }

  drawCharts() {
    this.dirty = false;
    const { data } = this;
    const chosen = data.series.find((row) => row.series.code === this.chosen);
    const months = Array.from({ length: 12 }, (_, i) => String(i + 1));
    const axisText = { color: '#9fb3c8' };
    if (chosen) {
      this.chart('months', this.monthsBox).setOption({
        tooltip: { trigger: 'axis' },
        legend: { textStyle: axisText },
        grid: { left: 60, right: 10, top: 30, bottom: 25 },
        xAxis: { type: 'category', data: months, axisLabel: axisText },
        yAxis: { type: 'value', name: pick(chosen.series.unit_title), axisLabel: axisText },
        series: [
          { name: String(data.year - 1), type: 'bar', data: chosen.months.last_year, itemStyle: { color: COLORS.lastYear } },
          { name: String(data.year), type: 'bar', data: chosen.months.this_year, itemStyle: { color: COLORS.thisYear } },
        ],
      }, true);
    }
    const ranking = (name, box, rows, label) => this.chart(name, box).setOption({
      tooltip: { trigger: 'axis' },
      grid: { left: 120, right: 20, top: 10, bottom: 40 },
      xAxis: { type: 'value', name: text('panel.mn_usd'), nameLocation: 'middle', nameGap: 22, splitNumber: 3, axisLabel: axisText },
      yAxis: { type: 'category', inverse: true, data: rows.map(label), axisLabel: { ...axisText, width: 110, overflow: 'truncate' } },
      series: [{ type: 'bar', data: rows.map((row) => row.registered_musd), itemStyle: { color: COLORS.thisYear } }],
    }, true);
    ranking('countries', this.countriesBox, data.rankings.country.slice(0, 10), (row) => pick(row.name));
    ranking('sectors', this.sectorsBox, data.rankings.sector, (row) => text(`sector.${row.key}`));
    const projects = data.programme;
    const count = (project, test) => project.milestones.filter(test).length;
    this.chart('programme', this.programmeBox).setOption({
      tooltip: { trigger: 'axis' },
      legend: { textStyle: axisText },
      grid: { left: 170, right: 20, top: 30, bottom: 20 },
      xAxis: { type: 'value', minInterval: 1, axisLabel: axisText },
      yAxis: { type: 'category', inverse: true, data: projects.map((p) => pick(p.title)), axisLabel: axisText },
      series: [
        ['done', (m) => m.done], ['open', (m) => !m.done && !m.late], ['late', (m) => m.late],
      ].map(([key, test]) => ({
        name: text(`panel.milestones_${key}`), type: 'bar', stack: 'milestones',
        itemStyle: { color: COLORS[key] }, data: projects.map((p) => count(p, test)),
      })),
    }, true);
    this.element.dataset.drawn = String(Date.now());
    this.element.dataset.lang = currentLanguage();
  }
}

function targetText(target, unit) {
  if (!target) return '–';
  if (target.kind === 'value') {
    const reached = target.achieved_pct === null ? '' : ` · ${text('panel.reached', { share: formatNumber(target.achieved_pct) })}`;
    return `${formatNumber(target.target)} ${unit}${reached}`;
  }
  const gap = target.gap === null ? '' : ` · ${text('panel.gap_points', { points: `${target.gap > 0 ? '+' : ''}${formatNumber(target.gap, 2)}` })}`;
  return `${text('panel.growth_target', { target: formatNumber(target.target) })}${gap}`;
}

export async function mount(root, context) {
  const panel = new EconomyPanel(root, context);
  await panel.start();
  return panel;
}
