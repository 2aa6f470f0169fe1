// Open alerts as the operations room reads them: a rule with many open alerts (one per late dossier,
// say) is one row "× 467" that expands to its alerts, a rule with few keeps a row per alert, so a
// camera-down or congestion alert is never buried. Rows go most severe first, then newest first.
import { getJSON } from './api.js';
import { h } from './dom.js';
import { formatAge, formatNumber, pick, t } from './i18n.js';
import { SEVERITIES } from './severity.js';

export const GROUP_AT = 4; // a rule with this many open alerts or more is shown as one row
// per_rule = GROUP_AT - 1: a rule shown alert by alert comes with all its alerts in the summary.
export const SUMMARY_URL = `/api/alerts/summary?state=open&per_rule=${GROUP_AT - 1}`;
export const PAGE = 50; // members read at a time when a group is expanded

const rank = (severity) => {
  const index = SEVERITIES.indexOf(severity);
  return index < 0 ? SEVERITIES.length : index;
};

// The rows of the list: {group: rule} or {alert}, ordered by severity then newest.
export function arrange(rules) {
  const entries = rules.flatMap((rule) =>
    rule.count >= GROUP_AT
      ? [{ group: rule, severity: rule.severity, issued: rule.dateIssued }]
      : rule.latest.map((alert) => ({ alert, severity: alert.severity, issued: alert.dateIssued })),
  );
  return entries.sort(
    (a, b) => rank(a.severity) - rank(b.severity) || Date.parse(b.issued) - Date.parse(a.issued),
  );
}

export function membersUrl(ruleId, offset = 0) {
  const rule = encodeURIComponent(ruleId);
  return `/api/alerts?state=open&rule=${rule}&limit=${PAGE}&offset=${offset}`;
}

// The members of the groups the operator has expanded, kept across refreshes of the list.
export class ExpandedGroups {
  constructor() {
    this.members = new Map(); // rule id -> {items, total}
  }

  has(ruleId) {
    return this.members.has(ruleId);
  }

  get(ruleId) {
    return this.members.get(ruleId);
  }

  collapse(ruleId) {
    this.members.delete(ruleId);
  }

  async expand(ruleId) {
    const page = await getJSON(membersUrl(ruleId));
    this.members.set(ruleId, { items: page.items, total: page.total });
  }

  async more(ruleId) {
    const shown = this.members.get(ruleId);
    if (!shown) return;
    const page = await getJSON(membersUrl(ruleId, shown.items.length));
    const known = new Set(shown.items.map((alert) => alert.alertId));
    this.members.set(ruleId, {
      items: [...shown.items, ...page.items.filter((alert) => !known.has(alert.alertId))],
      total: page.total,
    });
  }

  // Read again what is expanded (as many as were shown); groups that are no longer groups fold.
  async reload(rules) {
    const grouped = new Set(rules.filter((rule) => rule.count >= GROUP_AT).map((rule) => rule.ruleId));
    const reads = [...this.members].map(async ([ruleId, shown]) => {
      if (!grouped.has(ruleId)) {
        this.members.delete(ruleId);
        return;
      }
      const limit = Math.min(1000, Math.max(PAGE, shown.items.length));
      const rule = encodeURIComponent(ruleId);
      const page = await getJSON(`/api/alerts?state=open&rule=${rule}&limit=${limit}`);
      this.members.set(ruleId, { items: page.items, total: page.total });
    });
    await Promise.all(reads);
  }
}

// One row for a rule's alerts; `alertRow` draws each member, `onToggle`/`onMore` ask for the members.
export function groupRow(rule, shown, { alertRow, onToggle, onMore }) {
  const newest = rule.latest[0];
  const issued = Date.parse(rule.dateIssued);
  const expanded = shown !== undefined;
  const listId = `alert-group-${rule.ruleId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const title = h(
    'button',
    {
      type: 'button',
      class: 'row-title',
      'aria-expanded': String(expanded),
      'aria-controls': listId,
      dataset: { action: 'toggle' },
      title: t(expanded ? 'incidents.group.collapse' : 'incidents.group.expand'),
    },
    h('span', { class: 'group-caret', 'aria-hidden': 'true' }, expanded ? '▾' : '▸'),
    pick(rule.name) || rule.ruleId,
  );
  title.addEventListener('click', onToggle);
  let members = null;
  if (expanded) {
    const left = shown.total - shown.items.length;
    const more = left > 0 ? h('button', { type: 'button', class: 'link more', dataset: { action: 'more' } }, t('incidents.group.more', { count: formatNumber(left, 0) })) : null;
    more?.addEventListener('click', onMore);
    members = h('ol', { class: 'rows group-members', id: listId }, ...shown.items.map(alertRow), more ? h('li', { class: 'group-more' }, more) : null);
  }
  return h(
    'li',
    { class: 'row alert-group', dataset: { rule: rule.ruleId, severity: rule.severity, count: rule.count } },
    title,
    h('span', { class: 'badge severity', dataset: { severity: rule.severity } }, t(`severity.${rule.severity}`)),
    h(
      'span',
      { class: 'row-meta' },
      h('span', { class: 'newest-source' }, t('incidents.group.newest', { source: newest?.sourceName ?? '' })),
      h('time', { datetime: rule.dateIssued, dataset: { since: issued } }, formatAge(issued)),
    ),
    h('span', { class: 'group-count', title: t('incidents.group.count_title', { count: formatNumber(rule.count, 0) }) }, t('incidents.group.count', { count: formatNumber(rule.count, 0) })),
    members,
  );
}
