// The incidents panel (Sự cố): open alerts and incidents not yet closed, newest first, refreshed when
// the live feed says an alert or incident changed; age and SLA countdowns tick every second. Selecting
// an incident opens its detail in the panel. A rule with many open alerts shows as one row
// (alert_groups.js); the header counts every open alert, not the rows shown.
import { agencyName, loadAgencies } from './agencies.js';
import { ExpandedGroups, SUMMARY_URL, arrange, groupRow } from './alert_groups.js';
import { getJSON, postJSON } from './api.js';
import { h } from './dom.js';
import { IncidentDetail } from './incident_detail.js';
import { slaText } from './incident_sla.js';
import { formatAge, formatNumber, onLanguageChange, pick, t } from './i18n.js';
import { reportFailure, reportRecovery } from './notices.js';

const NOT_CLOSED = ['new', 'acknowledged', 'assigned', 'reopened', 'resolved'];
const INCIDENTS_URL = `/api/incidents?${NOT_CLOSED.map((state) => `state=${state}`).join('&')}&limit=200`;
const REFRESH_AFTER_MS = 250; // a burst of events is read once
const TICK_MS = 1000;
// Agency officers see no alerts (docs/access.md); only admins and operators open incidents from them.
const ALERT_READERS = new Set(['admin', 'operator', 'leader']);
const ALERT_LINKERS = new Set(['admin', 'operator']);

export class IncidentsPanel {
  constructor(elements, principal, { onRefreshed, areaName } = {}) {
    Object.assign(this, elements, { principal, onRefreshed });
    this.alertSummary = { total: 0, rules: [] };
    this.expanded = new ExpandedGroups();
    this.incidents = [];
    this.refreshTimer = null;
    this.generation = 0;
    this.detail = new IncidentDetail(elements.detailView, principal, {
      onClose: () => (this.listView.hidden = false),
      onChanged: () => this.changed(),
      areaName,
    });
    this.alertsSection.hidden = !this.readsAlerts;
  }

  get readsAlerts() {
    return ALERT_READERS.has(this.principal?.role);
  }

  get linksAlerts() {
    return ALERT_LINKERS.has(this.principal?.role) && !this.principal?.anonymous;
  }

  start() {
    this.refresh();
    setInterval(() => this.tick(), TICK_MS);
    onLanguageChange(() => this.render());
  }

  // The live feed reported an alert or incident event: read the lists again (once per burst).
  changed() {
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, REFRESH_AFTER_MS);
  }

  async refresh() {
    const generation = ++this.generation;
    try {
      const [summary, incidents] = await Promise.all([
        this.readsAlerts ? getJSON(SUMMARY_URL) : { total: 0, rules: [] },
        getJSON(INCIDENTS_URL),
        this.detail.openId !== null ? this.detail.reload() : null,
        // Names for the codes; without them the codes show, so a failure here is not the panel's.
        loadAgencies().catch((error) => console.warn('/api/agencies', error)),
      ]);
      await this.expanded.reload(summary.rules);
      if (generation !== this.generation) return; // a newer refresh has started
      this.alertSummary = summary;
      this.incidents = incidents.items;
      reportRecovery('/api/incidents');
      this.render();
      this.onRefreshed?.();
    } catch (error) {
      reportFailure('/api/incidents', error);
    }
  }

  async toggleGroup(ruleId) {
    try {
      if (this.expanded.has(ruleId)) this.expanded.collapse(ruleId);
      else await this.expanded.expand(ruleId);
      this.render();
      this.alertList.querySelector(`li[data-rule="${CSS.escape(ruleId)}"] > button.row-title`)?.focus();
    } catch (error) {
      reportFailure('/api/alerts', error);
    }
  }

  async moreOf(ruleId) {
    try {
      await this.expanded.more(ruleId);
      this.render();
    } catch (error) {
      reportFailure('/api/alerts', error);
    }
  }

  async openDetail(id) {
    this.listView.hidden = true;
    await this.detail.open(id);
  }

  async openIncidentFrom(alert) {
    const response = await postJSON(`/api/alerts/${alert.alertId}/incident`, {});
    if (!response.ok) {
      reportFailure(`/api/alerts/${alert.alertId}/incident`, new Error(`HTTP ${response.status}`));
      return;
    }
    const incident = await response.json();
    this.changed();
    await this.openDetail(incident.id);
  }

  render() {
    const active = this.incidents.filter((incident) => incident.state !== 'resolved').length;
    this.counts.textContent = t('incidents.counts', {
      alerts: formatNumber(this.alertSummary.total, 0),
      incidents: formatNumber(active, 0),
    });
    const rows = arrange(this.alertSummary.rules).map((entry) =>
      entry.alert
        ? this.alertRow(entry.alert)
        : groupRow(entry.group, this.expanded.get(entry.group.ruleId), {
            alertRow: (alert) => this.alertRow(alert),
            onToggle: () => this.toggleGroup(entry.group.ruleId),
            onMore: () => this.moreOf(entry.group.ruleId),
          }),
    );
    this.alertList.replaceChildren(...rows);
    this.alertEmpty.hidden = rows.length > 0;
    this.incidentList.replaceChildren(...this.incidents.map((incident) => this.incidentRow(incident)));
    this.incidentEmpty.hidden = this.incidents.length > 0;
  }

  alertRow(alert) {
    const raised = Date.parse(alert.dateIssued);
    const action = alert.incidentId
      ? h('button', { type: 'button', class: 'link', dataset: { action: 'view' } }, t('incidents.view', { id: alert.incidentId }))
      : this.linksAlerts
        ? h('button', { type: 'button', class: 'link', dataset: { action: 'open' } }, t('incidents.open_from_alert'))
        : null;
    action?.addEventListener('click', () => (alert.incidentId ? this.openDetail(alert.incidentId) : this.openIncidentFrom(alert)));
    return h(
      'li',
      { class: 'row', dataset: { alert: alert.alertId, severity: alert.severity } },
      h('span', { class: 'row-title' }, pick(alert.name) || alert.data.ruleId),
      h('span', { class: 'badge severity', dataset: { severity: alert.severity } }, t(`severity.${alert.severity}`)),
      h(
        'span',
        { class: 'row-meta' },
        h('span', {}, alert.sourceName),
        h('time', { datetime: alert.dateIssued, dataset: { since: raised } }, formatAge(raised)),
      ),
      action,
    );
  }

  incidentRow(incident) {
    const created = Date.parse(incident.created);
    const sla = slaText(incident, Date.now());
    const open = h(
      'button',
      { type: 'button', class: 'row-title', dataset: { action: 'detail' } },
      `#${incident.id} ${incident.title}`,
    );
    open.addEventListener('click', () => this.openDetail(incident.id));
    return h(
      'li',
      { class: 'row', dataset: { incident: incident.id, severity: incident.severity, state: incident.state } },
      open,
      h('span', { class: 'badge state', dataset: { state: incident.state } }, t(`incident.state.${incident.state}`)),
      h(
        'span',
        { class: 'row-meta' },
        h('span', { class: 'agency' }, incident.agency ? agencyName(incident.agency) : t('incidents.unassigned')),
        h('time', { datetime: incident.created, dataset: { since: created } }, formatAge(created)),
        sla ? h('span', { class: 'sla', dataset: { overdue: String(sla.overdue) } }, sla.text) : null,
      ),
      incident.escalation
        ? h('span', { class: 'badge escalated' }, t(`incidents.escalated.${incident.escalation}`))
        : null,
    );
  }

  // Ages and countdowns move on between refreshes.
  tick() {
    const now = Date.now();
    for (const time of this.root.querySelectorAll('time[data-since]')) {
      time.textContent = formatAge(Number(time.dataset.since), now);
    }
    this.detail.tick(now);
    this.incidents.forEach((incident) => {
      const sla = slaText(incident, now);
      const box = sla && this.incidentList.querySelector(`li[data-incident="${incident.id}"] .sla`);
      if (box) {
        box.textContent = sla.text;
        box.dataset.overdue = String(sla.overdue);
      }
    });
  }
}
