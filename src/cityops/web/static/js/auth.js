// Signing in and out: a cookie session from POST /api/auth/login. The form sits where the dashboard
// would be, so the language switch above it keeps working.
import { Unauthorized, getJSON, postJSON } from './api.js';
import { onLanguageChange, pick, t } from './i18n.js';

let current = null; // what /api/auth/me said
let lastError = null; // the API's {vi, en, ja} text of the last refused sign-in

export async function whoAmI() {
  try {
    return await getJSON('/api/auth/me');
  } catch (error) {
    if (error instanceof Unauthorized) return null;
    throw error;
  }
}

function form() {
  return document.getElementById('sign-in');
}

function showForm(shown) {
  document.body.dataset.auth = shown ? 'signed-out' : 'signed-in';
  form().hidden = !shown;
  if (shown) form().querySelector('input[name="username"]').focus();
}

function renderError() {
  const box = form().querySelector('.sign-in-error');
  box.hidden = lastError === null;
  box.textContent = lastError === null ? '' : pick(lastError);
}

// Resolves once somebody has signed in through the form.
function signInThroughForm() {
  showForm(true);
  return new Promise((resolve) => {
    const element = form();
    const submit = async (event) => {
      event.preventDefault();
      const data = new FormData(element);
      const button = element.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        const response = await postJSON('/api/auth/login', {
          username: String(data.get('username') ?? '').trim(),
          password: String(data.get('password') ?? ''),
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) {
          lastError = body?.detail?.text ?? { vi: `HTTP ${response.status}`, en: `HTTP ${response.status}`, ja: `HTTP ${response.status}` };
          renderError();
          return;
        }
        lastError = null;
        renderError();
        element.reset();
        element.removeEventListener('submit', submit);
        showForm(false);
        resolve(await whoAmI());
      } finally {
        button.disabled = false;
      }
    };
    element.addEventListener('submit', submit);
  });
}

// The signed-in principal (the anonymous viewer where the server allows reading without sign-in).
export async function signedIn() {
  current = (await whoAmI()) ?? (await signInThroughForm());
  showForm(false);
  renderUser();
  return current;
}

// A request came back 401 after the page started: sign in again, then start afresh.
let signingInAgain = false;
export function sessionLost() {
  if (signingInAgain) return;
  signingInAgain = true;
  signInThroughForm().then(() => window.location.reload());
}

export async function signOut() {
  await postJSON('/api/auth/logout');
  window.location.reload();
}

function renderUser() {
  const box = document.getElementById('user');
  const name = document.getElementById('user-name');
  const signOutButton = document.getElementById('sign-out');
  box.hidden = current === null;
  if (!current) return;
  name.textContent = current.anonymous ? t('user.anonymous') : `${current.display_name || current.username} · ${t(`role.${current.role}`)}`;
  signOutButton.hidden = current.via !== 'session';
}

export function wireUserControls() {
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  onLanguageChange(() => {
    renderUser();
    renderError();
  });
}
