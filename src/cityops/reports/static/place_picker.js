// The citizens' form: pick the place on a map of the province, or "use my location". Without scripts the
// form still works (address, latitude and longitude typed by hand); with them, both fill those fields.
import * as maplibregl from '/static/vendor/maplibre-gl/maplibre-gl.mjs';

const START = { center: [106.65, 11.05], zoom: 8.4 };
const DIGITS = 6; // about 10 cm: more than a phone's fix

function style() {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef3f7' } }],
  };
}

async function geojson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function bounds(collection) {
  let west = 180, south = 90, east = -180, north = -90;
  const visit = (coordinates) => {
    if (typeof coordinates[0] === 'number') {
      west = Math.min(west, coordinates[0]); east = Math.max(east, coordinates[0]);
      south = Math.min(south, coordinates[1]); north = Math.max(north, coordinates[1]);
    } else coordinates.forEach(visit);
  };
  for (const feature of collection.features) if (feature.geometry) visit(feature.geometry.coordinates);
  return west <= east ? [[west, south], [east, north]] : null;
}

class PlacePicker {
  constructor(form) {
    this.lat = form.querySelector('#lat');
    this.lon = form.querySelector('#long');
    this.status = form.querySelector('#location-status');
    this.box = form.querySelector('#place-map');
    this.locate = form.querySelector('#use-location');
    this.marker = null;
  }

  async start() {
    this.box.hidden = false;
    this.box.setAttribute('role', 'application');
    this.box.setAttribute('aria-label', this.box.dataset.pick);
    this.map = new maplibregl.Map({
      container: this.box, style: style(), ...START, attributionControl: false, dragRotate: false,
      pitchWithRotate: false, touchPitch: false, cooperativeGestures: false,
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    this.map.on('click', (event) => this.place(event.lngLat.lng, event.lngLat.lat));
    for (const input of [this.lat, this.lon]) input.addEventListener('change', () => this.fromFields());
    if ('geolocation' in navigator) {
      this.locate.hidden = false;
      this.locate.addEventListener('click', () => this.useMyLocation());
    }
    await this.map.once('load');
    window.cityopsPlaceMap = this.map;
    const [province, wards] = await Promise.all([
      geojson('/api/reports/public/areas?level=province'),
      geojson('/api/reports/public/areas?level=ward'),
    ]);
    this.map.addSource('wards', { type: 'geojson', data: wards });
    this.map.addLayer({ id: 'wards-fill', type: 'fill', source: 'wards', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.7 } });
    this.map.addLayer({ id: 'wards-line', type: 'line', source: 'wards', paint: { 'line-color': '#9fb0c1', 'line-width': 0.8 } });
    this.map.addSource('province', { type: 'geojson', data: province });
    this.map.addLayer({ id: 'province-line', type: 'line', source: 'province', paint: { 'line-color': '#0f2a44', 'line-width': 2 } });
    const extent = bounds(province);
    if (extent && !this.marker) this.map.fitBounds(extent, { padding: 12, animate: false });
    this.fromFields();
    this.box.dataset.ready = 'true';
  }

  place(lon, lat, { fly = false } = {}) {
    this.lat.value = lat.toFixed(DIGITS);
    this.lon.value = lon.toFixed(DIGITS);
    for (const input of [this.lat, this.lon]) input.removeAttribute('aria-invalid');
    this.show(lon, lat, fly);
  }

  show(lon, lat, fly) {
    if (!this.marker) this.marker = new maplibregl.Marker({ color: '#b3261e' });
    this.marker.setLngLat([lon, lat]).addTo(this.map);
    if (fly) this.map.flyTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), 15) });
  }

  fromFields() {
    const lat = Number.parseFloat(this.lat.value.replace(',', '.'));
    const lon = Number.parseFloat(this.lon.value.replace(',', '.'));
    if (Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      this.show(lon, lat, true);
    }
  }

  useMyLocation() {
    this.status.textContent = this.locate.dataset.locating;
    this.locate.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        this.locate.disabled = false;
        this.status.textContent = '';
        this.place(position.coords.longitude, position.coords.latitude, { fly: true });
      },
      () => {
        this.locate.disabled = false;
        this.status.textContent = this.locate.dataset.failed;
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    );
  }
}

const form = document.querySelector('.report-form');
if (form) {
  new PlacePicker(form).start().catch((error) => {
    // The fields still work by hand; the map is a help, not a requirement.
    console.error('place picker', error);
  });
}
