// The camera wall: each camera's latest snapshot with its overlay drawn over it, refreshed every few
// seconds while the tab is shown and the card on screen. A camera that is down says so plainly, with the
// time of its last frame; simulated cameras are labelled as such.
import { h } from '/static/js/dom.js';
import { formatDateTime, formatMeasure, formatTime, t } from '/static/js/i18n.js';
import { classColor, className, countRows, overlaySvg } from './overlay.js';

export const REFRESH_MS = 4000;
const NO_PICTURE_RETRY_MS = 30_000;
const MIN_CARD_PX = 100; // below this a picture says nothing: the wall scrolls instead
// Cards narrower than this (a 1366x768 laptop: 12 cameras in about 690 x 255 pixels) drop the footer
// (flow and time are in the selected camera's detail) and write names smaller, so that all fit.
export const DENSE_CARD_PX = 170;

// The widest card that `columns` columns of `width` leave, between gaps of `gap`.
export function cardWidth(width, columns, gap = 10) {
  return (width - gap * (columns - 1)) / columns;
}

// The column counts worth trying, fewest (largest pictures) first: from one up to as many as keep cards
// MIN_CARD_PX wide (never more than there are cards).
export function columnChoices(count, width, gap = 10) {
  if (count === 0 || width <= 0) return [1];
  const most = Math.max(1, Math.min(count, Math.floor((width + gap) / (MIN_CARD_PX + gap))));
  return Array.from({ length: most }, (_, index) => index + 1);
}

// How far down the picture the card's badges (state, "simulated") reach: box labels stay below them.
function badgesPx(card) {
  const badges = card.parts.frame.querySelector('.camera-badges');
  return badges && !badges.hidden ? badges.offsetTop + badges.offsetHeight : 0;
}

function cameraPath(camera, leaf) {
  return `/api/traffic/cameras/${encodeURIComponent(camera.id)}/${leaf}`;
}

async function loadOverlay(camera) {
  const response = await fetch(cameraPath(camera, 'overlay'), {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
  });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${cameraPath(camera, 'overlay')}: HTTP ${response.status}`);
  return response.json();
}

// Resolves once the picture is decoded, so that picture and overlay change together.
function loadImage(url) {
  const image = new Image();
  image.alt = '';
  image.src = url;
  return image.decode().then(() => image);
}

export class CameraWall {
  constructor(root, cameras, { onSelect, visible }) {
    Object.assign(this, { root, cameras, onSelect, visible });
    this.cards = new Map(); // urn -> {element, parts, overlay, frameTs}
    this.onScreen = new Set();
    this.selected = null;
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const { urn } = entry.target.dataset;
        if (entry.isIntersecting) this.onScreen.add(urn);
        else this.onScreen.delete(urn);
      }
      // A card scrolled into view (or its tab shown) gets its picture now, not at the next tick.
      const fresh = entries.filter((entry) => entry.isIntersecting && this.cards.get(entry.target.dataset.urn)?.loaded === false);
      if (fresh.length && this.visible()) this.refresh(fresh.map((entry) => entry.target.dataset.urn));
    });
    this.timer = null;
    this.resizeObserver = new ResizeObserver(() => this.layOut());
  }

  // All cameras on one screen where the box allows it (the operations-room wall): the fewest columns
  // whose cards, laid out by the browser with their real names, fit the box without scrolling. Measured,
  // not estimated: a name takes one line or three depending on the card's width.
  layOut() {
    const { clientWidth: width, clientHeight: height } = this.root;
    if (!width || !height) return;
    const before = this.root.style.getPropertyValue('--wall-columns');
    const gap = parseFloat(getComputedStyle(this.root).columnGap) || 10;
    const choices = columnChoices(this.cards.size, width, gap);
    let chosen = choices[choices.length - 1];
    for (const columns of choices) {
      this.setColumns(columns, width, gap);
      if (this.root.scrollHeight <= this.root.clientHeight + 1) {
        chosen = columns;
        break;
      }
    }
    this.setColumns(chosen, width, gap);
    if (before !== String(chosen)) this.retranslate(); // overlays keep their on-screen text size
  }

  setColumns(columns, width, gap) {
    this.root.style.setProperty('--wall-columns', String(columns));
    this.root.dataset.dense = String(cardWidth(width, columns, gap) < DENSE_CARD_PX);
  }

  start() {
    this.resizeObserver.observe(this.root);
    this.render();
    this.timer = setInterval(() => this.tick(), REFRESH_MS);
    document.addEventListener('visibilitychange', () => this.tick());
  }

  tick() {
    if (!this.visible() || document.visibilityState !== 'visible') return;
    this.refresh([...this.onScreen]);
  }

  render() {
    for (const [urn, card] of this.cards) {
      if (this.cameras.cameras.has(urn)) continue;
      this.observer.unobserve(card.element);
      card.element.remove();
      this.cards.delete(urn);
      this.onScreen.delete(urn);
    }
    for (const camera of this.cameras.sorted()) {
      if (!this.cards.has(camera.urn)) this.addCard(camera);
      this.renderCard(camera);
    }
    this.layOut();
  }

  addCard(camera) {
    const parts = {
      name: h('span', { class: 'camera-name' }),
      simulated: h('span', { class: 'badge badge-simulated', hidden: true }),
      state: h('span', { class: 'camera-state' }),
      frame: h('div', { class: 'camera-frame' }),
      image: h('img', { class: 'camera-image', alt: '', hidden: true }),
      message: h('div', { class: 'camera-message', role: 'status' }),
      flow: h('span', { class: 'camera-flow' }),
      updated: h('time', { class: 'camera-updated' }),
      counts: h('ul', { class: 'camera-counts' }),
    };
    // The state and "simulated" sit on the picture: the card's text is the name, whole, and the flow.
    parts.frame.append(parts.image, parts.message, h('span', { class: 'camera-badges' }, parts.simulated, parts.state));
    const element = h(
      'article',
      { class: 'camera-card', dataset: { urn: camera.urn, camera: camera.id }, tabindex: '0', role: 'button' },
      h('header', {}, parts.name),
      parts.frame,
      h('footer', {}, parts.flow, parts.updated),
      parts.counts,
    );
    element.addEventListener('click', () => this.onSelect(camera.urn));
    element.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.onSelect(camera.urn);
      }
    });
    const card = { element, parts, overlay: null, frameTs: null, svg: null, loaded: false };
    this.cards.set(camera.urn, card);
    this.root.append(element);
    this.observer.observe(element);
    return card;
  }

  // Scrolls the wall, and only the wall (not the page under the map), to the camera's card.
  reveal(urn) {
    const card = this.cards.get(urn)?.element;
    if (!card) return;
    const top = card.offsetTop; // the wall is positioned, so this is within it
    const bottom = top + card.offsetHeight;
    if (top < this.root.scrollTop || bottom > this.root.scrollTop + this.root.clientHeight) {
      this.root.scrollTo({ top: Math.max(0, top - 4), behavior: 'smooth' });
    }
  }

  select(urn) {
    this.selected = urn;
    for (const [cardUrn, card] of this.cards) card.element.setAttribute('aria-pressed', String(cardUrn === urn));
  }

  renderCard(camera, now = Date.now()) {
    const card = this.cards.get(camera.urn);
    if (!card) return;
    const { parts, element, overlay } = card;
    const state = this.cameras.state(camera, now);
    element.dataset.state = state;
    element.setAttribute('aria-pressed', String(camera.urn === this.selected));
    parts.name.textContent = camera.name;
    parts.name.title = camera.name;
    const simulated = camera.simulated || Boolean(overlay?.simulated);
    parts.simulated.hidden = !simulated;
    parts.simulated.textContent = t('traffic.wall.simulated');
    parts.state.textContent = t(`traffic.state.${state}`);
    const flow = this.cameras.flow(camera);
    parts.flow.textContent = flow === null ? '' : formatMeasure(flow, 'vehicles/min');
    parts.flow.title = t('traffic.metric.intensity');

    const frameTs = card.frameTs ?? camera.lastFrameMs ?? null;
    if (frameTs) {
      parts.updated.dateTime = new Date(frameTs).toISOString();
      parts.updated.textContent = formatTime(frameTs);
      parts.updated.title = t('traffic.wall.frame_at', { time: formatDateTime(frameTs) });
    } else {
      parts.updated.textContent = '';
    }

    parts.frame.dataset.view = state === 'down' ? 'lost' : card.loaded ? 'image' : card.loaded === null ? 'none' : 'waiting';
    if (state === 'down') {
      parts.message.replaceChildren(
        h('strong', {}, t('traffic.wall.signal_lost')),
        h('span', {}, frameTs ? t('traffic.wall.last_frame', { time: formatDateTime(frameTs) }) : t('traffic.wall.never_seen')),
      );
    } else if (!card.loaded) {
      parts.message.replaceChildren(h('span', {}, t(card.loaded === null ? 'traffic.wall.no_snapshot' : 'traffic.wall.loading')));
    } else {
      parts.message.replaceChildren();
    }
    this.renderCounts(card);
  }

  renderCounts(card) {
    const rows = card.overlay ? countRows(card.overlay) : [];
    card.parts.counts.replaceChildren(
      ...rows
        .filter((row) => row.in || row.out)
        .map((row) =>
          h(
            'li',
            { dataset: { line: row.line, class: row.class }, style: { '--class-color': classColor(row.class) } },
            h('span', { class: 'count-class' }, className(row.class)),
            h('span', { class: 'count-line' }, row.line),
            h('span', { class: 'count-value' }, `${t('traffic.overlay.in')} ${row.in} · ${t('traffic.overlay.out')} ${row.out}`),
          ),
        ),
    );
  }

  async refresh(urns) {
    await Promise.all(
      urns.map(async (urn) => {
        const camera = this.cameras.cameras.get(urn);
        if (!camera) return;
        try {
          await this.refreshCard(camera);
        } catch (error) {
          console.warn(`snapshot of ${camera.id}`, error);
        }
      }),
    );
  }

  async refreshCard(camera, now = Date.now()) {
    const card = this.cards.get(camera.urn);
    if (card.retryAt && now < card.retryAt) return;
    // The registry (reloaded every 30 s) says whether a picture exists: no request for one that does not.
    const overlay = camera.snapshotMs === null ? null : await loadOverlay(camera);
    if (!overlay) {
      // No picture yet: ask again less often (each 404 is also a line in the browser's console).
      card.retryAt = now + NO_PICTURE_RETRY_MS;
      card.loaded = card.loaded || null;
      this.renderCard(camera);
      return;
    }
    card.retryAt = null;
    const ts = Number(overlay.ts) || null;
    if (ts !== card.frameTs || !card.loaded) {
      const image = await loadImage(`${cameraPath(camera, 'snapshot.jpg')}?ts=${ts ?? Date.now()}`);
      const { frame } = card.parts;
      const width = Number(overlay.width) || image.naturalWidth;
      const height = Number(overlay.height) || image.naturalHeight;
      frame.style.setProperty('aspect-ratio', `${width} / ${height}`);
      card.parts.image.src = image.src;
      card.parts.image.hidden = false;
      const drawn = overlaySvg({ ...overlay, width, height }, frame.clientWidth, { keepTopPx: badgesPx(card) });
      if (card.svg) card.svg.replaceWith(drawn);
      else frame.insertBefore(drawn, card.parts.message);
      card.svg = drawn;
      card.frameTs = ts;
      card.loaded = true;
      camera.lastFrameMs = Math.max(camera.lastFrameMs ?? 0, ts ?? 0) || camera.lastFrameMs;
    }
    card.overlay = overlay;
    this.renderCard(camera);
  }

  // Texts in the overlays (class names, in / out) follow the language.
  retranslate() {
    for (const [urn, card] of this.cards) {
      if (card.overlay && card.svg) {
        const width = Number(card.overlay.width) || card.parts.image.naturalWidth;
        const height = Number(card.overlay.height) || card.parts.image.naturalHeight;
        const drawn = overlaySvg({ ...card.overlay, width, height }, card.parts.frame.clientWidth, {
          keepTopPx: badgesPx(card),
        });
        card.svg.replaceWith(drawn);
        card.svg = drawn;
      }
      const camera = this.cameras.cameras.get(urn);
      if (camera) this.renderCard(camera);
    }
  }
}
