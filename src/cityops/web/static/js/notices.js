// The red line under the banner that says what could not be loaded; cleared when it loads again.
import { t } from './i18n.js';

const failures = new Map();

export function reportFailure(what, error) {
  console.warn(`cityops: ${what}`, error);
  failures.set(what, error);
  render();
}

export function reportRecovery(what) {
  if (failures.delete(what)) render();
}

function render() {
  const box = document.getElementById('errors');
  if (!box) return;
  box.hidden = failures.size === 0;
  box.textContent = [...failures.keys()].map((what) => t('error.load', { what })).join(' · ');
}
