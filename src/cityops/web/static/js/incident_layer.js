// Incidents not yet closed as markers on the map (GET /api/incidents/map): a ring in the severity's
// colour, above the entities; clicking one opens its detail.
import { getJSON } from './api.js';
import { reportFailure, reportRecovery } from './notices.js';
import { severityColorExpression } from './severity.js';

const SOURCE = 'incidents';
const EMPTY = { type: 'FeatureCollection', features: [] };

export class IncidentLayer {
  constructor(map, onSelect) {
    this.map = map;
    const color = severityColorExpression();
    map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
    map.addLayer({
      id: 'incidents-halo',
      type: 'circle',
      source: SOURCE,
      paint: {
        'circle-color': color,
        'circle-opacity': ['case', ['==', ['get', 'state'], 'resolved'], 0.1, 0.3],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 10, 12, 16, 15, 22],
      },
    });
    map.addLayer({
      id: 'incidents-circle',
      type: 'circle',
      source: SOURCE,
      paint: {
        'circle-color': '#0a1420',
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 5, 12, 8, 15, 11],
        'circle-stroke-color': color,
        'circle-stroke-width': ['case', ['!=', ['get', 'escalation'], null], 4, 3],
      },
    });
    map.on('mouseenter', 'incidents-circle', () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', 'incidents-circle', () => (map.getCanvas().style.cursor = ''));
    map.on('click', 'incidents-circle', (event) => onSelect(event.features[0].properties.id));
  }

  async refresh() {
    try {
      const collection = await getJSON('/api/incidents/map');
      this.map.getSource(SOURCE)?.setData(collection);
      reportRecovery('/api/incidents/map');
    } catch (error) {
      reportFailure('/api/incidents/map', error);
    }
  }
}
