// A worker's overlay (GET /api/traffic/cameras/{id}/overlay) drawn as SVG over its snapshot, in the
// image's own pixel coordinates: counting lines with an arrow for the "in" direction and their counts,
// zones, and tracked boxes with their class. Every text goes in as a text node, never as markup.
import { t } from '/static/js/i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
// "vehicle": something moving that the worker could not classify.
export const CLASSES = ['motorbike', 'car', 'bus', 'truck', 'bicycle', 'person', 'vehicle'];
export const CLASS_COLORS = {
  motorbike: '#3fb4ff',
  car: '#2fbf71',
  bus: '#f2b233',
  truck: '#ff8a3d',
  bicycle: '#c77dff',
  person: '#ff6bb5',
  vehicle: '#9aa7b4',
};
const OTHER_COLOR = '#e6eef6';

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

function point(value) {
  if (Array.isArray(value) && value.length >= 2) return [Number(value[0]), Number(value[1])];
  if (value && typeof value === 'object') return [Number(value.x), Number(value.y)];
  return null;
}

function finite(...numbers) {
  return numbers.every((number) => Number.isFinite(number));
}

// Lines as workers may write them: {start, end}, {points: [a, b]} or {x1, y1, x2, y2}.
export function lineEnds(line) {
  const ends = line.start && line.end ? [point(line.start), point(line.end)]
    : Array.isArray(line.points) ? [point(line.points[0]), point(line.points[1])]
      : [[Number(line.x1), Number(line.y1)], [Number(line.x2), Number(line.y2)]];
  return ends.every((end) => end && finite(...end)) ? ends : null;
}

function zonePoints(zone) {
  const points = (zone.polygon ?? zone.points ?? []).map(point);
  return points.length >= 3 && points.every((p) => p && finite(...p)) ? points : null;
}

export function classColor(name) {
  return CLASS_COLORS[name] ?? OTHER_COLOR;
}

export function className(name) {
  return CLASSES.includes(name) ? t(`traffic.class.${name}`) : String(name ?? '');
}

// "in 12 · out 3" summed over classes, for one line.
function lineTotals(counts) {
  let inbound = 0;
  let outbound = 0;
  for (const byDirection of Object.values(counts ?? {})) {
    inbound += Number(byDirection?.in) || 0;
    outbound += Number(byDirection?.out) || 0;
  }
  return { inbound, outbound };
}

function drawLine(line, counts, scale) {
  const ends = lineEnds(line);
  if (!ends) return null;
  const [[x1, y1], [x2, y2]] = ends;
  const name = String(line.id ?? line.name ?? '');
  const length = Math.hypot(x2 - x1, y2 - y1) || 1;
  // The arrow shows "in": from the line's `in_side` (left by default, looking from start to end, y down)
  // to the other side, as the traffic analytics count it.
  const toRight = line.in_side !== 'right';
  const sign = toRight ? 1 : -1;
  const [nx, ny] = [(sign * -(y2 - y1)) / length, (sign * (x2 - x1)) / length];
  const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
  const arrow = 14 * scale;
  const [tx, ty] = [mx + nx * arrow, my + ny * arrow];
  const head = 5 * scale;
  const [px, py] = [-ny, nx];
  const { inbound, outbound } = lineTotals(counts);
  const label = `${name}: ${t('traffic.overlay.in')} ${inbound} · ${t('traffic.overlay.out')} ${outbound}`;
  return svg(
    'g',
    { class: 'overlay-line', 'data-line': name },
    svg('line', { x1, y1, x2, y2, 'stroke-width': 2 * scale }),
    svg('line', { class: 'overlay-arrow', x1: mx - nx * arrow, y1: my - ny * arrow, x2: tx, y2: ty, 'stroke-width': 1.5 * scale }),
    svg('polygon', {
      class: 'overlay-arrow-head',
      points: [
        [tx + nx * head, ty + ny * head],
        [tx + px * head * 0.7, ty + py * head * 0.7],
        [tx - px * head * 0.7, ty - py * head * 0.7],
      ].map((p) => p.join(',')).join(' '),
    }),
    svg('text', { x: Math.min(x1, x2) + 4 * scale, y: Math.min(y1, y2) + 14 * scale, 'font-size': 11 * scale }, label),
  );
}

function drawZone(zone, scale) {
  const points = zonePoints(zone);
  if (!points) return null;
  const name = String(zone.id ?? zone.name ?? '');
  const [lx, ly] = points[0];
  return svg(
    'g',
    { class: 'overlay-zone', 'data-zone': name },
    svg('polygon', { points: points.map((p) => p.join(',')).join(' '), 'stroke-width': 1.5 * scale }),
    svg('text', { x: lx + 4 * scale, y: ly + 14 * scale, 'font-size': 10 * scale }, name),
  );
}

function drawBox(box, scale) {
  const [x1, y1, x2, y2] = [box.x1, box.y1, box.x2, box.y2].map(Number);
  if (!finite(x1, y1, x2, y2) || x2 <= x1 || y2 <= y1) return null;
  const color = classColor(box.class);
  const label = [className(box.class), box.track !== undefined && box.track !== null ? `#${box.track}` : null]
    .filter(Boolean)
    .join(' ');
  const size = 10 * scale;
  return svg(
    'g',
    { class: 'overlay-box', 'data-class': String(box.class ?? '') },
    svg('rect', { x: x1, y: y1, width: x2 - x1, height: y2 - y1, stroke: color, 'stroke-width': 1.5 * scale }),
    svg('rect', { class: 'overlay-label-bg', x: x1, y: y1 - size - 3 * scale, width: (label.length * 0.62 + 0.6) * size, height: size + 3 * scale, fill: color }),
    svg('text', { x: x1 + 2 * scale, y: y1 - 3 * scale, 'font-size': size }, label),
  );
}

// The whole overlay as one <svg> sized to the image it covers, `shownWidth` CSS pixels wide on screen.
export function overlaySvg(overlay, shownWidth) {
  const width = Number(overlay.width) || 640;
  const height = Number(overlay.height) || 360;
  // Strokes and texts keep the same size on screen whatever the picture's resolution and the card's size.
  const scale = width / (shownWidth > 0 ? shownWidth : 320);
  return svg(
    'svg',
    { class: 'overlay', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    svg('g', { class: 'overlay-zones' }, ...(overlay.zones ?? []).map((zone) => drawZone(zone, scale))),
    svg('g', { class: 'overlay-boxes' }, ...(overlay.boxes ?? []).map((box) => drawBox(box, scale))),
    svg(
      'g',
      { class: 'overlay-lines' },
      ...(overlay.lines ?? []).map((line) => drawLine(line, overlay.counts?.[line.id ?? line.name], scale)),
    ),
  );
}

// Counts per line and class, for the text under the picture: [{line, class, in, out}].
export function countRows(overlay) {
  const rows = [];
  for (const [line, byClass] of Object.entries(overlay.counts ?? {})) {
    for (const [name, byDirection] of Object.entries(byClass ?? {})) {
      rows.push({ line, class: name, in: Number(byDirection?.in) || 0, out: Number(byDirection?.out) || 0 });
    }
  }
  const order = (name) => (CLASSES.includes(name) ? CLASSES.indexOf(name) : CLASSES.length);
  return rows.sort((a, b) => a.line.localeCompare(b.line) || order(a.class) - order(b.class));
}
