// One incident: its facts, the moves its state allows (for roles that may act), its history with the
// comments, its attachments and a comment box. Everything from the API is inserted as text.
import { agencies, agencyName } from './agencies.js';
import { getJSON, postJSON } from './api.js';
import { h } from './dom.js';
import { formatAge, formatDateTime, onLanguageChange, pick, t } from './i18n.js';
import { slaText } from './incident_sla.js';

// Who may move, comment on and attach to incidents (the API keeps agency officers to their scope).
export const ACTING_ROLES = new Set(['admin', 'operator', 'agency_officer']);

// The API's refusal as a sentence: its three-language text, the fields of a 422, or the status.
async function refusal(response) {
  const body = await response.json().catch(() => null);
  const detail = body?.detail;
  if (response.status === 409) return t('incidents.error.conflict');
  if (detail?.text) return pick(detail.text);
  if (Array.isArray(detail)) return detail.map((error) => `${error.field ?? error.loc?.at(-1)}: ${error.msg}`).join('; ');
  return t('incidents.error.http', { status: response.status });
}

export class IncidentDetail {
  constructor(container, principal, { onClose, onChanged, areaName }) {
    Object.assign(this, { container, principal, onClose, onChanged, areaName });
    this.incident = null;
    this.error = null;
    this.busy = false;
    onLanguageChange(() => this.render());
  }

  get mayAct() {
    return ACTING_ROLES.has(this.principal?.role) && !this.principal?.anonymous;
  }

  get openId() {
    return this.container.hidden ? null : this.incident?.id ?? this.pendingId ?? null;
  }

  async open(id) {
    this.pendingId = id;
    this.error = null;
    this.container.hidden = false;
    await this.reload();
    this.container.scrollTop = 0;
  }

  close() {
    this.container.hidden = true;
    this.container.replaceChildren();
    this.incident = null;
    this.pendingId = null;
    this.onClose?.();
  }

  async reload() {
    const id = this.pendingId;
    if (id === null || id === undefined) return;
    try {
      const incident = await getJSON(`/api/incidents/${encodeURIComponent(id)}`);
      if (this.pendingId !== id) return; // another incident was opened meanwhile
      this.incident = incident;
    } catch (error) {
      this.error = t('incidents.error.load');
      console.warn('cityops: incident', error);
    }
    this.render();
  }

  async send(url, body) {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.render();
    try {
      const response = await postJSON(url, body);
      if (!response.ok) this.error = await refusal(response);
      await this.reload();
      if (response.ok) this.onChanged?.(this.incident);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  move(to, agency) {
    const body = agency ? { to, agency } : { to };
    return this.send(`/api/incidents/${this.incident.id}/transitions`, body);
  }

  comment(text) {
    return this.send(`/api/incidents/${this.incident.id}/comments`, { text });
  }

  render() {
    const incident = this.incident;
    if (this.container.hidden) return;
    const back = h('button', { type: 'button', class: 'back', dataset: { action: 'back' } }, t('incidents.back'));
    back.addEventListener('click', () => this.close());
    if (!incident) {
      this.container.replaceChildren(back, h('p', { class: 'placeholder' }, this.error ?? t('incidents.loading')));
      return;
    }
    const focused = document.activeElement?.name;
    const draft = this.container.querySelector('textarea[name="comment"]')?.value ?? '';
    const agencyDraft = this.container.querySelector('select[name="agency"]')?.value ?? incident.agency ?? '';
    this.container.dataset.incident = incident.id;
    this.container.dataset.state = incident.state;
    this.container.dataset.severity = incident.severity;
    const parts = [
      back,
      h(
        'header',
        { class: 'detail-header' },
        h('h3', { class: 'detail-title' }, `#${incident.id} ${incident.title}`),
        h('span', { class: 'badge severity', dataset: { severity: incident.severity } }, t(`severity.${incident.severity}`)),
        h('span', { class: 'badge state', dataset: { state: incident.state } }, t(`incident.state.${incident.state}`)),
      ),
      this.facts(incident),
      incident.description ? h('p', { class: 'description' }, incident.description) : null,
      this.error ? h('p', { class: 'detail-error', role: 'alert' }, this.error) : null,
      this.mayAct ? this.actions(incident, agencyDraft) : null,
      this.attachments(incident),
      h('h4', {}, t('incidents.history')),
      h('ol', { class: 'history' }, incident.history.map((entry) => this.historyEntry(entry))),
      this.mayAct ? this.commentForm(draft) : null,
    ];
    this.container.replaceChildren(...parts.filter(Boolean));
    if (focused) this.container.querySelector(`[name="${focused}"]`)?.focus();
  }

  facts(incident) {
    const sla = slaText(incident, Date.now());
    const rows = [
      [t('incidents.agency'), incident.agency ? agencyName(incident.agency) : t('incidents.unassigned')],
      [t('incidents.area'), this.areaName?.(incident.area_code) ?? incident.area_code ?? '—'],
      [t('incidents.created'), `${formatDateTime(Date.parse(incident.created))} (${formatAge(Date.parse(incident.created))})`],
      sla ? [t('incidents.sla'), sla.text, 'sla'] : null,
      incident.escalation ? [t('incidents.escalation'), t(`incidents.escalated.${incident.escalation}`)] : null,
    ].filter(Boolean);
    return h(
      'dl',
      { class: 'facts' },
      rows.flatMap(([term, value, name]) => [h('dt', {}, term), h('dd', { class: name }, value)]),
    );
  }

  // The countdown moves on between reloads.
  tick(now) {
    const box = this.container.querySelector('.facts .sla');
    const sla = box && this.incident && slaText(this.incident, now);
    if (sla) {
      box.textContent = sla.text;
      box.dataset.overdue = String(sla.overdue);
    }
  }

  actions(incident, agencyDraft) {
    const moves = incident.allowed_transitions;
    if (!moves.length) return null;
    const box = h('div', { class: 'actions', role: 'group', 'aria-label': t('incidents.actions') });
    for (const to of moves) {
      if (to === 'assigned') {
        // A list of agencies by name, not free text: a typo would assign the incident to nobody.
        const codes = agencies().map((agency) => agency.code);
        if (agencyDraft && !codes.includes(agencyDraft)) codes.unshift(agencyDraft);
        const input = h(
          'select',
          { name: 'agency', required: true, 'aria-label': t('incidents.agency') },
          h('option', { value: '' }, t('incidents.agency_placeholder')),
          codes.map((code) => h('option', { value: code, selected: code === agencyDraft }, agencyName(code))),
        );
        const form = h(
          'form',
          { class: 'assign', dataset: { to } },
          input,
          h('button', { type: 'submit', disabled: this.busy }, t(`incidents.action.${to}`)),
        );
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          const agency = input.value.trim();
          if (agency) this.move(to, agency);
        });
        box.append(form);
      } else {
        const button = h('button', { type: 'button', dataset: { to }, disabled: this.busy }, t(`incidents.action.${to}`));
        button.addEventListener('click', () => this.move(to));
        box.append(button);
      }
    }
    return box;
  }

  attachments(incident) {
    if (!incident.attachments.length) return null;
    return h(
      'ul',
      { class: 'attachments', 'aria-label': t('incidents.attachments') },
      incident.attachments.map((file) =>
        h(
          'li',
          {},
          h('a', { href: `/api/incidents/${incident.id}/attachments/${file.id}`, download: file.name }, file.name),
        ),
      ),
    );
  }

  historyEntry(entry) {
    const when = Date.parse(entry.ts);
    let what;
    switch (entry.kind) {
      case 'transition':
        what = [
          `${entry.from_state ? t(`incident.state.${entry.from_state}`) : ''} → ${t(`incident.state.${entry.to_state}`)}`,
          entry.data?.agency ? `${t('incidents.agency')}: ${agencyName(entry.data.agency)}` : null,
        ].filter(Boolean).join(' · ');
        break;
      case 'attachment':
        what = `${t('incidents.history.attachment')}: ${entry.data?.name ?? ''}`;
        break;
      case 'alert':
        what = `${t('incidents.history.alert')}: ${entry.data?.rule_id ?? ''}`;
        break;
      case 'escalation':
        what = t(`incidents.escalated.${entry.data?.stage}`);
        break;
      default:
        what = t(`incidents.history.${entry.kind}`);
    }
    return h(
      'li',
      { dataset: { kind: entry.kind } },
      h('time', { datetime: entry.ts, title: formatDateTime(when) }, formatAge(when)),
      h('span', { class: 'actor' }, entry.actor ?? '—'),
      h('span', { class: 'what' }, what),
      entry.text ? h('p', { class: 'text' }, entry.text) : null,
    );
  }

  commentForm(draft) {
    const text = h('textarea', {
      name: 'comment',
      rows: 2,
      maxlength: 10000,
      required: true,
      placeholder: t('incidents.comment_placeholder'),
      'aria-label': t('incidents.comment'),
    });
    text.value = draft;
    const form = h(
      'form',
      { class: 'comment' },
      text,
      h('button', { type: 'submit', disabled: this.busy }, t('incidents.comment_send')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      await this.comment(value);
      if (!this.error) {
        const box = this.container.querySelector('textarea[name="comment"]');
        if (box) box.value = '';
      }
    });
    return form;
  }
}
