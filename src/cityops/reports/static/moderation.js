// The moderation queue of citizens' reports (phản ánh hiện trường) on the operations-room dashboard:
// reports waiting for moderation, newest first, and the selected one's detail with its actions
// (moderation_detail.js). Refreshed on a timer, when its tab is shown and whenever an incident changes
// (an approval opens one).
import { agencyName, loadAgencies } from '/static/js/agencies.js';
import { getJSON } from '/static/js/api.js';
import { h } from '/static/js/dom.js';
import { formatAge, onLanguageChange, pick, t } from '/static/js/i18n.js';
import { reportFailure, reportRecovery } from '/static/js/notices.js';
import { ReportDetail } from './moderation_detail.js';

const REFRESH_MS = 15_000;
const QUEUE = '/api/reports/queue?status=pending&order=newest&limit=100';
const STYLESHEET = '/static/domains/reports/moderation.css';

function addStylesheet() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href: STYLESHEET }));
}

class ModerationPanel {
  constructor(root, context) {
    this.context = context;
    this.items = [];
    this.total = 0;
    this.selectedId = null;
    this.refreshing = null;
    this.again = false;
    this.count = h('p', { class: 'moderation-count', 'aria-live': 'polite' });
    this.list = h('ol', { class: 'rows moderation-list', 'aria-label': t('reports.panel.moderation') });
    this.empty = h('p', { class: 'placeholder moderation-empty', hidden: true });
    const detailRoot = h('div', { class: 'moderation-detail' });
    this.detail = new ReportDetail(detailRoot, context, { onChanged: () => this.refresh() });
    root.classList.add('moderation-panel');
    root.replaceChildren(
      h('div', { class: 'moderation-queue' }, this.count, this.empty, this.list),
      detailRoot,
    );
  }

  get signedIn() {
    return this.context.principal && !this.context.principal.anonymous;
  }

  async start() {
    onLanguageChange(() => this.renderList());
    if (!this.signedIn) {
      // The anonymous wall screen may not read the queue (contact details): say so, ask nothing.
      this.count.textContent = t('reports.moderation.sign_in');
      return;
    }
    this.context.on('incident', () => this.refresh());
    this.context.onShow?.(() => this.refresh());
    setInterval(() => this.refresh(), REFRESH_MS);
    await this.refresh();
  }

  // One refresh at a time; a request for another while one runs makes one more afterwards.
  async refresh() {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.load().finally(() => {
      this.refreshing = null;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
    return this.refreshing;
  }

  async load() {
    try {
      // Agencies by name: a report names its agency by code.
      const [queue] = await Promise.all([getJSON(QUEUE), loadAgencies().catch(() => null)]);
      this.items = queue.items;
      this.total = queue.total;
      reportRecovery(QUEUE);
    } catch (error) {
      reportFailure(QUEUE, error);
      return;
    }
    this.renderList();
    if (this.selectedId !== null && !this.items.some((item) => item.service_request_id === this.selectedId)) {
      await this.detail.recheck();
    }
  }

  renderList() {
    if (!this.signedIn) {
      this.count.textContent = t('reports.moderation.sign_in');
      return;
    }
    this.count.textContent = t('reports.moderation.count', { count: this.total });
    this.count.dataset.count = String(this.total);
    this.empty.hidden = this.items.length > 0;
    this.empty.textContent = t('reports.moderation.empty');
    this.list.setAttribute('aria-label', t('reports.panel.moderation'));
    this.list.replaceChildren(...this.items.map((item) => this.row(item)));
  }

  row(item) {
    const id = item.service_request_id;
    const selected = id === this.selectedId;
    const title = h(
      'button',
      { type: 'button', class: 'row-title', 'aria-pressed': String(selected) },
      `#${id} ${pick(item.service_name) || item.service_code} — ${item.description}`,
    );
    title.addEventListener('click', () => this.select(item));
    const area = item.area_code ? this.context.mapView?.areaNames?.get(item.area_code) : null;
    return h(
      'li',
      { class: 'row', dataset: { report: id, selected: String(selected) } },
      title,
      h('span', { class: 'badge files' }, t('reports.moderation.file_count', { count: item.files.length })),
      h(
        'span',
        { class: 'row-meta' },
        h('time', { datetime: item.requested_datetime }, formatAge(Date.parse(item.requested_datetime))),
        h('span', { class: 'agency' }, agencyName(item.agency_responsible)),
        area || item.address ? h('span', { class: 'place' }, area || item.address) : null,
      ),
    );
  }

  select(item) {
    this.selectedId = item.service_request_id;
    this.detail.show(item);
    this.renderList();
  }
}

export async function mount(root, context) {
  addStylesheet();
  const panel = new ModerationPanel(root, context);
  await panel.start();
}
