// The late and due-soon dossiers as a table, each with a link to its printable apology letter.
// Built with h(): procedure, agency and area names come from imported files and are shown as text.
import { h } from '/static/js/dom.js';
import { formatDateTime, formatNumber, t } from '/static/js/i18n.js';

function text(key, vars) {
  return t(`services.${key}`, vars);
}

export function letterUrl(code) {
  return `/api/services/dossiers/${encodeURIComponent(code)}/apology-letter`;
}

export function dossierTable(items, state) {
  if (items.length === 0) {
    return h('p', { class: 'svc-empty' }, text(state === 'late' ? 'panel.none_late' : 'panel.none_due_soon'));
  }
  const late = state === 'late';
  const head = ['panel.code', 'panel.agency', 'panel.due_at', ...(late ? ['panel.hours_late'] : []), 'panel.letter'];
  return h(
    'div',
    { class: 'svc-table-wrap' },
    h(
      'table',
      { class: 'svc-table', dataset: { state } },
      h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col' }, text(key))))),
      h(
        'tbody',
        {},
        items.map((item) =>
          h(
            'tr',
            { dataset: { code: item.code } },
            h(
              'td',
              {},
              h('div', { class: 'svc-code' }, item.code),
              h('div', { class: 'svc-procedure svc-sub' }, item.procedure_name),
            ),
            h(
              'td',
              {},
              h('div', { class: 'svc-agency' }, item.agency_name),
              h('div', { class: 'svc-area svc-sub' }, item.area_name),
            ),
            h('td', { class: 'svc-num' }, h('time', { datetime: item.due_at }, formatDateTime(item.due_at))),
            late ? h('td', { class: 'svc-num svc-late-hours' }, formatNumber(item.working_hours_late, 1)) : null,
            h(
              'td',
              {},
              h(
                'a',
                { class: 'svc-letter', href: letterUrl(item.code), target: '_blank', rel: 'noopener' },
                text('panel.letter'),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
