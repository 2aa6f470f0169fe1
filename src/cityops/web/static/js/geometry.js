// Small geometry helpers for GeoJSON polygons: where to put a label, what to fit the view to.

function ringArea(ring) {
  let twice = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    twice += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  }
  return twice / 2;
}

function ringCentroid(ring) {
  const area = ringArea(ring);
  if (area === 0) return ring[0];
  let x = 0;
  let y = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    x += (ring[j][0] + ring[i][0]) * cross;
    y += (ring[j][1] + ring[i][1]) * cross;
  }
  return [x / (6 * area), y / (6 * area)];
}

function outerRings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates[0]];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.map((polygon) => polygon[0]);
  return [];
}

// The centroid of the largest outer ring: inside for the convex-ish cells the areas module draws.
export function labelPoint(geometry) {
  let best = null;
  let bestArea = -1;
  for (const ring of outerRings(geometry)) {
    const area = Math.abs(ringArea(ring));
    if (area > bestArea) {
      best = ring;
      bestArea = area;
    }
  }
  return best ? ringCentroid(best) : null;
}

export function bounds(features) {
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  const visit = (coordinates) => {
    if (typeof coordinates[0] === 'number') {
      west = Math.min(west, coordinates[0]);
      east = Math.max(east, coordinates[0]);
      south = Math.min(south, coordinates[1]);
      north = Math.max(north, coordinates[1]);
    } else coordinates.forEach(visit);
  };
  for (const feature of features) if (feature.geometry) visit(feature.geometry.coordinates);
  return west === Infinity ? null : [[west, south], [east, north]];
}
