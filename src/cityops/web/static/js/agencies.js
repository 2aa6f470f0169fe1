// Agencies by name (GET /api/agencies): what the picker offers and how an assigned code reads.
import { getJSON } from './api.js';
import { pick } from './i18n.js';

const REFRESH_MS = 5 * 60_000;
const state = { list: [], byCode: new Map(), loadedAt: 0, loading: null };

export function loadAgencies(now = Date.now()) {
  if (state.loading) return state.loading;
  if (state.list.length && now - state.loadedAt < REFRESH_MS) return Promise.resolve(state.list);
  state.loading = getJSON('/api/agencies')
    .then((list) => {
      state.list = list;
      state.byCode = new Map(list.map((agency) => [agency.code, agency]));
      state.loadedAt = Date.now();
      return list;
    })
    .finally(() => {
      state.loading = null;
    });
  return state.loading;
}

export function agencies() {
  return state.list;
}

// The name in the page's language; the code itself where no domain names it (or the list is not in yet).
export function agencyName(code) {
  if (!code) return '';
  const agency = state.byCode.get(code);
  return agency ? pick(agency.name) || code : code;
}
