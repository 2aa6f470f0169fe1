// Reads the JSON API with the session cookie; a 401 means the session is gone (or never was).
export class Unauthorized extends Error {}

let unauthorizedHandler = null;

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (response.status === 401) {
    unauthorizedHandler?.();
    throw new Unauthorized(url);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// The value of a cookie the page may read (the session's CSRF token).
export function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split('; ').find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : null;
}

// JSON to an unsafe endpoint: the session's CSRF token goes in the header the API checks.
export async function postJSON(url, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const csrf = cookie('cityops_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  return fetch(url, { method: 'POST', headers, credentials: 'same-origin', body: JSON.stringify(body ?? {}) });
}

// Retries a loader with a growing pause; `onError` hears each failure so the page can say so.
export async function retrying(load, onError, { firstDelayMs = 1000, maxDelayMs = 15000 } = {}) {
  let delay = firstDelayMs;
  for (;;) {
    try {
      return await load();
    } catch (error) {
      onError?.(error);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}
