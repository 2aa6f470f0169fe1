// Cameras on the main map: a circle coloured by state (up / down / unknown) and sized by the current
// flow, with a small arrow for the direction the camera looks when its owner recorded one. The map has no
// sprite or glyphs (see the kernel's map.js), so the arrow is an image drawn here and added to the map.
import { cssColor } from '/static/js/dom.js';

const SOURCE = 'traffic-cameras';
export const CIRCLE_LAYER = 'traffic-cameras-circle';
export const ARROW_LAYER = 'traffic-cameras-arrow';
const SELECTED_LAYER = 'traffic-cameras-selected';
const ARROW_IMAGE = 'traffic-arrow';
const REDRAW_MS = 500;
// Flow (vehicles/min) at which a circle reaches its largest size.
const FULL_FLOW = 240;

export const STATE_COLORS = { up: '--ok', down: '--bad', unknown: '--unknown' };

function arrowImage(color) {
  const size = 32;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext('2d');
  context.fillStyle = color;
  context.strokeStyle = '#0a1420';
  context.lineWidth = 2;
  context.beginPath();
  context.moveTo(size / 2, 1);
  context.lineTo(size - 7, size - 4);
  context.lineTo(size / 2, size - 10);
  context.lineTo(7, size - 4);
  context.closePath();
  context.stroke();
  context.fill();
  return context.getImageData(0, 0, size, size);
}

export class CameraLayer {
  constructor(map, cameras, onSelect) {
    Object.assign(this, { map, cameras, onSelect });
    this.selected = null;
    this.redrawTimer = null;
    const colors = Object.fromEntries(Object.entries(STATE_COLORS).map(([state, name]) => [state, cssColor(name)]));
    // Under the incident markers, which must stay on top.
    const before = map.getLayer('incidents-halo') ? 'incidents-halo' : undefined;
    map.addSource(SOURCE, { type: 'geojson', data: this.collection() });
    map.addImage(ARROW_IMAGE, arrowImage('#e6eef6'), { pixelRatio: 2 });
    map.addLayer(
      {
        id: ARROW_LAYER,
        type: 'symbol',
        source: SOURCE,
        filter: ['has', 'bearing'],
        layout: {
          'icon-image': ARROW_IMAGE,
          'icon-rotate': ['get', 'bearing'],
          'icon-rotation-alignment': 'map',
          'icon-anchor': 'bottom',
          'icon-allow-overlap': true,
          'icon-ignore-placement': true,
          'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.9, 14, 1.4],
        },
      },
      before,
    );
    map.addLayer(
      {
        id: SELECTED_LAYER,
        type: 'circle',
        source: SOURCE,
        filter: ['==', ['get', 'urn'], ''],
        paint: {
          'circle-radius': this.radius(6),
          'circle-color': 'rgba(0, 0, 0, 0)',
          'circle-stroke-color': cssColor('--accent'),
          'circle-stroke-width': 3,
        },
      },
      before,
    );
    map.addLayer(
      {
        id: CIRCLE_LAYER,
        type: 'circle',
        source: SOURCE,
        paint: {
          'circle-color': ['match', ['get', 'state'], 'up', colors.up, 'down', colors.down, colors.unknown],
          'circle-radius': this.radius(0),
          'circle-opacity': 0.9,
          'circle-stroke-color': '#0a1420',
          'circle-stroke-width': 1.5,
        },
      },
      before,
    );
    map.on('mouseenter', CIRCLE_LAYER, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', CIRCLE_LAYER, () => (map.getCanvas().style.cursor = ''));
    map.on('click', CIRCLE_LAYER, (event) => this.onSelect(event.features[0].properties.urn));
  }

  // Radius by flow, growing with the zoom; `extra` pixels for the selection ring.
  radius(extra) {
    const flow = ['min', ['coalesce', ['get', 'flow'], 0], FULL_FLOW];
    const at = (small, large) => ['+', extra, ['interpolate', ['linear'], flow, 0, small, FULL_FLOW, large]];
    return ['interpolate', ['linear'], ['zoom'], 8, at(5, 11), 13, at(8, 18)];
  }

  collection(now = Date.now()) {
    const features = [];
    for (const camera of this.cameras.sorted()) {
      if (!camera.coordinates) continue;
      const properties = { urn: camera.urn, name: camera.name, state: this.cameras.state(camera, now) };
      const flow = this.cameras.flow(camera);
      if (flow !== null) properties.flow = flow;
      if (camera.bearing !== null) properties.bearing = camera.bearing;
      features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: camera.coordinates }, properties });
    }
    return { type: 'FeatureCollection', features };
  }

  // Many batches a second can arrive: redraw at most twice a second.
  refresh() {
    this.redrawTimer ??= setTimeout(() => {
      this.redrawTimer = null;
      this.map.getSource(SOURCE)?.setData(this.collection());
    }, REDRAW_MS);
  }

  select(urn) {
    this.selected = urn;
    this.map.setFilter(SELECTED_LAYER, ['==', ['get', 'urn'], urn ?? '']);
  }
}
