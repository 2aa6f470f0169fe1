// One report waiting for moderation: its text, photos (through the staff file route, which needs the
// session), place (the main map flies there and marks it), contact, and the three actions — approve,
// edit then approve, refuse with a reason — for the roles that may moderate. Everything a citizen typed
// is inserted as text, never as markup.
import { cookie, getJSON, postJSON } from '/static/js/api.js';
import { h } from '/static/js/dom.js';
import { agencyName } from '/static/js/agencies.js';
import { formatDateTime, formatNumber, onLanguageChange, pick, t } from '/static/js/i18n.js';

// The roles the API lets moderate (agency officers within their agency and areas).
const MODERATORS = new Set(['admin', 'operator', 'agency_officer']);
const REASON_MIN = 5;
const MARKER_SOURCE = 'reports-moderation-selected';

// api.js has postJSON only; edits are PATCH, with the same CSRF header.
async function patchJSON(url, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const csrf = cookie('cityops_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  return fetch(url, { method: 'PATCH', headers, credentials: 'same-origin', body: JSON.stringify(body) });
}

// The API's refusal as one sentence: the reports domain's three-language text, or the status.
async function refusal(response) {
  const body = await response.json().catch(() => null);
  const detail = body?.detail;
  const first = Array.isArray(detail) ? detail[0] : detail;
  if (first?.text) return pick(first.text);
  if (first?.msg) return `${first.field ?? first.loc?.at(-1) ?? ''}: ${first.msg}`;
  return t('reports.moderation.http', { status: response.status });
}

function fact(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

export class ReportDetail {
  constructor(container, context, { onChanged }) {
    Object.assign(this, { container, context, onChanged });
    this.report = null;
    this.mode = 'view'; // 'view' | 'edit' | 'refuse' | 'done' (moderated here) | 'gone' (moderated elsewhere)
    this.message = null; // {kind: 'error' | 'done', text}
    this.busy = false;
    this.categories = null;
    onLanguageChange(() => {
      this.categories = null;
      if (!['edit', 'refuse'].includes(this.mode)) this.render();
    });
    this.render();
  }

  get mayModerate() {
    const principal = this.context.principal;
    return MODERATORS.has(principal?.role) && !principal?.anonymous;
  }

  show(report) {
    this.report = report;
    this.mode = 'view';
    this.message = null;
    this.render();
    this.markOnMap();
  }

  // The report left the queue (moderated elsewhere): say so instead of offering actions.
  async recheck() {
    if (!this.report || this.mode === 'gone' || this.mode === 'done') return;
    try {
      const current = await getJSON(`/api/reports/${encodeURIComponent(this.report.service_request_id)}`);
      if (current.status === 'pending') return;
    } catch {
      // Gone from the officer's scope or deleted: the same for the moderator.
    }
    this.mode = 'gone';
    this.render();
  }

  render() {
    const report = this.report;
    if (!report) {
      this.container.replaceChildren(h('p', { class: 'placeholder' }, t('reports.moderation.pick')));
      return;
    }
    const id = report.service_request_id;
    this.container.replaceChildren(
      h(
        'article',
        { class: 'report', dataset: { report: id } },
        h('h3', { class: 'detail-title' }, `#${id} ${pick(report.service_name) || report.service_code}`),
        this.message
          ? h('p', { class: this.message.kind === 'error' ? 'detail-error' : 'moderation-done', role: 'status' }, this.message.text)
          : null,
        this.facts(report),
        h('h4', {}, t('reports.moderation.description')),
        h('p', { class: 'description' }, report.description),
        this.files(report),
        this.actions(report),
      ),
    );
  }

  facts(report) {
    const area = report.area_code ? this.context.mapView?.areaNames?.get(report.area_code) : null;
    const contact = [report.contact?.name, report.contact?.phone, report.contact?.email].filter(Boolean).join(' · ');
    const place = [];
    if (report.lat !== null && report.long !== null) {
      const fly = h('button', { type: 'button', class: 'fly' }, t('reports.moderation.show_on_map'));
      fly.addEventListener('click', () => this.flyTo());
      place.push(`${formatNumber(report.lat, 5)}; ${formatNumber(report.long, 5)} `, fly);
    } else {
      place.push(t('reports.moderation.no_location'));
    }
    return h(
      'dl',
      { class: 'facts' },
      fact(t('reports.moderation.received'), formatDateTime(Date.parse(report.requested_datetime))),
      report.address ? fact(t('reports.moderation.address'), report.address) : null,
      area ? fact(t('reports.moderation.area'), area) : null,
      fact(t('reports.moderation.location'), ...place),
      fact(t('reports.moderation.agency'), agencyName(report.agency_responsible)),
      fact(t('reports.moderation.contact'), contact || '—'),
    );
  }

  files(report) {
    if (report.files.length === 0) return h('p', { class: 'placeholder' }, t('reports.moderation.no_files'));
    const base = `/api/reports/${encodeURIComponent(report.service_request_id)}/files`;
    return h(
      'ul',
      { class: 'photos', 'aria-label': t('reports.moderation.files') },
      report.files.map((file) => {
        const url = `${base}/${encodeURIComponent(file.id)}`;
        const shown = file.content_type.startsWith('image/')
          ? h('img', { src: url, alt: file.name, loading: 'lazy', class: 'thumbnail' })
          : h('span', { class: 'file-name' }, file.name);
        return h('li', {}, h('a', { href: url, title: file.name, download: file.name }, shown));
      }),
    );
  }

  actions(report) {
    if (this.mode === 'done') return null;
    if (this.mode === 'gone') return h('p', { class: 'moderation-notice' }, t('reports.moderation.gone'));
    if (!this.mayModerate) return h('p', { class: 'moderation-notice' }, t('reports.moderation.read_only'));
    if (this.mode === 'edit') return this.editForm(report);
    if (this.mode === 'refuse') return this.refuseForm();
    const button = (action, label, handler) => {
      const element = h('button', { type: 'button', dataset: { action }, disabled: this.busy }, label);
      element.addEventListener('click', handler);
      return element;
    };
    return h(
      'div',
      { class: 'actions' },
      button('approve', t('reports.moderation.approve'), () => this.approve()),
      button('edit', t('reports.moderation.edit'), () => this.switchTo('edit')),
      button('refuse', t('reports.moderation.refuse'), () => this.switchTo('refuse')),
    );
  }

  async switchTo(mode) {
    this.message = null;
    if (mode === 'edit' && this.categories === null) {
      this.categories = await getJSON(`/api/reports/public/services?lang=${document.documentElement.lang}`).catch(() => []);
    }
    this.mode = mode;
    this.render();
    this.container.querySelector('textarea')?.focus();
  }

  editForm(report) {
    const categories = this.categories ?? [];
    const select = h(
      'select',
      { name: 'service_code' },
      categories.map((c) => h('option', { value: c.service_code, selected: c.service_code === report.service_code }, c.service_name)),
    );
    const form = h(
      'form',
      { class: 'moderation-form', dataset: { form: 'edit' } },
      h('label', {}, t('reports.moderation.category'), select),
      h('label', {}, t('reports.moderation.description'), h('textarea', { name: 'description', rows: 5, required: true })),
      h('label', {}, t('reports.moderation.address'), h('input', { name: 'address_string', type: 'text' })),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', dataset: { action: 'save-approve' }, disabled: this.busy }, t('reports.moderation.save_approve')),
        this.cancelButton(),
      ),
    );
    // Values set as properties: the text is the citizen's, never parsed.
    form.elements.description.value = report.description;
    form.elements.address_string.value = report.address ?? '';
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const changes = {
        description: form.elements.description.value,
        service_code: form.elements.service_code.value || report.service_code,
      };
      if (form.elements.address_string.value.trim()) changes.address_string = form.elements.address_string.value;
      this.editThenApprove(changes);
    });
    return form;
  }

  refuseForm() {
    const form = h(
      'form',
      { class: 'moderation-form', dataset: { form: 'refuse' } },
      h('label', {}, t('reports.moderation.reason'), h('textarea', { name: 'reason', rows: 3, maxlength: 1000 })),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', dataset: { action: 'confirm-refuse' }, disabled: this.busy }, t('reports.moderation.confirm_refuse')),
        this.cancelButton(),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const reason = form.elements.reason.value.trim();
      if (reason.length < REASON_MIN) {
        this.message = { kind: 'error', text: t('reports.moderation.reason_needed', { min: REASON_MIN }) };
        this.render();
        this.container.querySelector('textarea').value = form.elements.reason.value;
        return;
      }
      this.refuse(reason);
    });
    return form;
  }

  cancelButton() {
    const cancel = h('button', { type: 'button', class: 'cancel', dataset: { action: 'cancel' } }, t('reports.moderation.cancel'));
    cancel.addEventListener('click', () => {
      this.mode = 'view';
      this.message = null;
      this.render();
    });
    return cancel;
  }

  // Runs one request to the API; on success the queue refreshes and the detail says what happened.
  async act(send, done) {
    if (this.busy) return;
    this.busy = true;
    const kept = this.mode;
    const typed = [...this.container.querySelectorAll('textarea, input, select')].map((e) => [e.name, e.value]);
    this.renderKeepingForm(typed);
    let response;
    try {
      response = await send();
    } catch (error) {
      response = null;
      this.message = { kind: 'error', text: String(error) };
    }
    this.busy = false;
    if (response?.ok) {
      this.message = { kind: 'done', text: done(await response.json()) };
      this.mode = 'done';
      this.onChanged?.();
    } else if (response) {
      this.message = { kind: 'error', text: await refusal(response) };
      this.mode = response.status === 409 || response.status === 404 ? 'gone' : kept;
    }
    this.renderKeepingForm(typed);
  }

  // Re-render, putting back what was typed in an open form.
  renderKeepingForm(typed) {
    this.render();
    for (const [name, value] of typed) {
      const element = this.container.querySelector(`[name="${name}"]`);
      if (element) element.value = value;
    }
  }

  approve() {
    const id = this.report.service_request_id;
    return this.act(
      () => postJSON(`/api/reports/${encodeURIComponent(id)}/approve`),
      (approved) => t('reports.moderation.approved', { id, incident: approved.incident_id }),
    );
  }

  async editThenApprove(changes) {
    const id = this.report.service_request_id;
    return this.act(
      async () => {
        const edited = await patchJSON(`/api/reports/${encodeURIComponent(id)}`, changes);
        if (!edited.ok) return edited;
        this.report = await edited.clone().json();
        return postJSON(`/api/reports/${encodeURIComponent(id)}/approve`);
      },
      (approved) => t('reports.moderation.approved', { id, incident: approved.incident_id }),
    );
  }

  refuse(reason) {
    const id = this.report.service_request_id;
    return this.act(
      () => postJSON(`/api/reports/${encodeURIComponent(id)}/refuse`, { reason }),
      () => t('reports.moderation.refused', { id }),
    );
  }

  // --- the main map --------------------------------------------------------------------------------
  markOnMap() {
    const map = this.context.map;
    if (!map) return;
    const report = this.report;
    const features = report && report.lat !== null && report.long !== null
      ? [{ type: 'Feature', geometry: { type: 'Point', coordinates: [report.long, report.lat] }, properties: { id: report.service_request_id } }]
      : [];
    const data = { type: 'FeatureCollection', features };
    if (map.getSource(MARKER_SOURCE)) {
      map.getSource(MARKER_SOURCE).setData(data);
      return;
    }
    map.addSource(MARKER_SOURCE, { type: 'geojson', data });
    map.addLayer({
      id: `${MARKER_SOURCE}-circle`,
      type: 'circle',
      source: MARKER_SOURCE,
      paint: {
        'circle-color': '#f2b233',
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 6, 15, 12],
        'circle-stroke-color': '#0a1420',
        'circle-stroke-width': 3,
      },
    });
  }

  flyTo() {
    const map = this.context.map;
    const report = this.report;
    if (!map || !report || report.lat === null || report.long === null) return;
    this.markOnMap();
    this.context.showMap();
    map.flyTo({ center: [report.long, report.lat], zoom: Math.max(map.getZoom(), 15) });
  }
}
