// Interface texts: every string on the page comes from /api/translations/{lang}.
import { getJSON } from './api.js';

export const LANGUAGES = ['vi', 'en', 'ja'];
const STORAGE_KEY = 'cityops.language';
const LOCALES = { vi: 'vi-VN', en: 'en-GB', ja: 'ja-JP' };
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

const state = { language: 'vi', texts: {} };
const listeners = new Set();

export function currentLanguage() {
  return state.language;
}

export function storedLanguage(fallback) {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(stored)) return stored;
  } catch {
    // Storage can be disabled (private windows, kiosk policies): fall back quietly.
  }
  return LANGUAGES.includes(fallback) ? fallback : 'vi';
}

export async function useLanguage(language) {
  if (!LANGUAGES.includes(language)) throw new Error(`unknown language ${language}`);
  state.texts = await getJSON(`/api/translations/${language}`);
  state.language = language;
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // See storedLanguage.
  }
  document.documentElement.lang = language;
  translatePage(document);
  for (const listener of listeners) listener(language);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

export function t(key, vars = {}) {
  const text = state.texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function has(key) {
  return key in state.texts;
}

// A {vi, en, ja} title from the API, in the current language.
export function pick(titles) {
  if (!titles) return '';
  return titles[state.language] ?? titles.vi ?? Object.values(titles)[0] ?? '';
}

export function translatePage(root) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    const vars = element.dataset.i18nVars ? JSON.parse(element.dataset.i18nVars) : {};
    element.textContent = t(element.dataset.i18n, vars);
  }
  for (const element of root.querySelectorAll('[data-i18n-title]')) {
    element.title = t(element.dataset.i18nTitle);
  }
  for (const element of root.querySelectorAll('[data-i18n-aria-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
  }
}

export function formatNumber(value, maximumFractionDigits = 1) {
  return new Intl.NumberFormat(LOCALES[state.language], { maximumFractionDigits }).format(value);
}

export function formatTime(when) {
  return new Intl.DateTimeFormat(LOCALES[state.language], {
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE,
  }).format(new Date(when));
}

// A day and time in the province's time, in the language's order: "14:05 05/12/2026" (vi),
// "05/12/2026, 14:05" (en), "2026/12/05 14:05" (ja); `seconds` adds them.
export function formatDateTime(when, { seconds = false } = {}) {
  return new Intl.DateTimeFormat(LOCALES[state.language], {
    day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}), hourCycle: 'h23', timeZone: TIME_ZONE,
  }).format(new Date(when));
}

// A measured value and its unit, apart ("42", "xe/phút"); `bool` metrics read as yes / no.
export function measureParts(value, unit) {
  if (value === null || value === undefined) return { number: t('indicators.no_value'), unit: '' };
  if (unit === 'bool') return { number: t(value ? 'value.true' : 'value.false'), unit: '' };
  // Units that name states ("1 up / 0 down", "0-3") read as words: value.<unit>.<value>.
  if (has(`value.${unit}.${value}`)) return { number: t(`value.${unit}.${value}`), unit: '' };
  return { number: formatNumber(value), unit: !unit ? '' : has(`unit.${unit}`) ? t(`unit.${unit}`) : unit };
}

// The same as one string: "42 xe/phút", "95,2%".
export function formatMeasure(value, unit) {
  const parts = measureParts(value, unit);
  if (!parts.unit) return parts.number;
  return unit === '%' ? `${parts.number}${parts.unit}` : `${parts.number} ${parts.unit}`;
}

// How long ago, in words: "5 phút trước", "5 minutes ago", "5 分前".
export function formatAge(when, now = Date.now()) {
  const seconds = Math.round((now - when) / 1000);
  const format = new Intl.RelativeTimeFormat(LOCALES[state.language], { numeric: 'always', style: 'short' });
  if (Math.abs(seconds) < 60) return format.format(-seconds, 'second');
  if (Math.abs(seconds) < 3600) return format.format(-Math.floor(seconds / 60), 'minute');
  if (Math.abs(seconds) < 86400) return format.format(-Math.floor(seconds / 3600), 'hour');
  return format.format(-Math.floor(seconds / 86400), 'day');
}

// A span of time as a clock, the same in every language: "4:05", "1:02:09", "2 d 3:00:00" for days.
export function formatClockDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  const clock = hours || days ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
  return days ? `${t('time.days', { days })} ${clock}` : clock;
}
