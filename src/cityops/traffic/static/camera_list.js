// The cameras the panel shows, kept current: the kernel's Camera entities (place, name, attributes,
// newest values) that the traffic registry lists (GET /api/traffic/cameras: retired ones are not), with
// the live feed's observations on top.
import { getJSON } from '/static/js/api.js';

const URN_PREFIX = 'urn:ngsi-ld:Camera:';
// How long a worker's `state` point holds (STATE_FRESH_MS in traffic/cameras_api.py).
export const STATE_FRESH_MS = 2 * 60_000;
const RELOAD_AFTER_MS = 1000;
const COMPASS = { N: 0, NE: 45, E: 90, SE: 135, S: 180, SW: 225, W: 270, NW: 315 };

export function cameraId(urn) {
  return urn.startsWith(URN_PREFIX) ? urn.slice(URN_PREFIX.length) : urn;
}

// Degrees clockwise from north, from whichever attribute a camera's owner filled in; null if none.
export function bearingOf(attributes = {}) {
  for (const key of ['bearing', 'heading', 'orientation', 'cameraOrientation']) {
    const value = attributes[key];
    if (typeof value === 'number' && Number.isFinite(value)) return ((value % 360) + 360) % 360;
    if (typeof value !== 'string' || !value.trim()) continue;
    const word = value.trim().toUpperCase();
    if (word in COMPASS) return COMPASS[word];
    const degrees = Number(word.replace(/°$/, ''));
    if (Number.isFinite(degrees)) return ((degrees % 360) + 360) % 360;
  }
  return null;
}

function epochMs(ts) {
  if (ts === null || ts === undefined) return null;
  const value = typeof ts === 'number' ? ts : Date.parse(ts);
  return Number.isFinite(value) ? value : null;
}

export class CameraList {
  constructor() {
    this.cameras = new Map(); // urn -> camera
    this.listeners = new Set();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  changed(urns) {
    for (const listener of this.listeners) listener(urns);
  }

  sorted() {
    return [...this.cameras.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async load() {
    const collection = await getJSON('/api/entities?type=Camera');
    for (const feature of collection.features) this.fromFeature(feature);
    await this.loadRegistry();
    this.changed(null);
  }

  fromFeature(feature) {
    const { urn, name, area_code: areaCode, attributes = {}, latest = {} } = feature.properties;
    const known = this.cameras.get(urn);
    const camera = known ?? { urn, id: cameraId(urn), latest: {}, registryState: null };
    camera.name = name;
    camera.areaCode = areaCode ?? camera.areaCode ?? null;
    camera.coordinates = feature.geometry?.coordinates ?? null;
    camera.attributes = attributes ?? {};
    camera.simulated = Boolean(camera.attributes.simulated);
    camera.bearing = bearingOf(camera.attributes);
    for (const [metric, { value, ts }] of Object.entries(latest)) this.remember(camera, metric, value, epochMs(ts));
    this.cameras.set(urn, camera);
    return camera;
  }

  // GET /api/traffic/cameras: the registry (retired cameras are off it) and each camera's state.
  async loadRegistry() {
    const rows = await getJSON('/api/traffic/cameras');
    const listed = new Set();
    for (const row of rows) {
      listed.add(row.urn);
      const camera = this.cameras.get(row.urn);
      if (!camera) continue;
      camera.registryState = row.state;
      camera.snapshotMs = row.snapshot_ms ?? null;
      const flow = row.latest_flow;
      if (flow && typeof flow.intensity === 'number') this.remember(camera, 'intensity', flow.intensity, flow.ts ?? null);
    }
    for (const urn of this.cameras.keys()) {
      if (!listed.has(urn)) this.cameras.delete(urn);
    }
  }

  remember(camera, metric, value, ts) {
    const known = camera.latest[metric];
    if (!known || ts === null || known.ts === null || known.ts <= ts) camera.latest[metric] = { value, ts };
  }

  // A batch from the live feed ('observations'); returns the cameras it touched.
  applyObservations(batch) {
    const touched = new Set();
    for (const point of batch.series ?? []) {
      const camera = this.cameras.get(point.entity);
      if (!camera) continue;
      this.remember(camera, point.metric, point.value, epochMs(point.ts));
      touched.add(point.entity);
    }
    if (touched.size) this.changed(touched);
    return touched;
  }

  // An 'entity' event: a camera registered, renamed or moved. The event carries no attributes, so a new
  // camera's (simulated or not, orientation) come with a reload shortly after.
  applyEntity(entity) {
    if (entity.type !== 'Camera') return;
    const { urn, name, lon, lat, area_code: areaCode } = entity;
    const known = this.cameras.get(urn);
    this.fromFeature({
      geometry: lon === null || lon === undefined ? null : { coordinates: [lon, lat] },
      properties: { urn, area_code: areaCode, name: name ?? urn, attributes: known?.attributes ?? {}, latest: {} },
    });
    this.changed(new Set([urn]));
    if (!known) {
      this.reloadTimer ??= setTimeout(() => {
        this.reloadTimer = null;
        this.load().catch((error) => console.warn('/api/entities?type=Camera', error));
      }, RELOAD_AFTER_MS);
    }
  }

  // As the registry judges it (traffic/cameras_api.py): the newest `state` point a worker sent, if
  // recent; "unknown" when no worker watches the camera. The live feed keeps it newer than the registry.
  state(camera, now = Date.now()) {
    const point = camera.latest.state;
    if (point && point.ts !== null && now - point.ts <= STATE_FRESH_MS) return point.value >= 0.5 ? 'up' : 'down';
    if (!point && camera.registryState) return camera.registryState;
    return 'unknown';
  }

  flow(camera) {
    return camera.latest.intensity?.value ?? null;
  }
}
