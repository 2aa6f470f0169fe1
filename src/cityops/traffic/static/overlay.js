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

// How wide `text` is drawn at `size` (the overlay's texts are semi-bold in the page's font), measured by
// the browser rather than guessed from a character count: digits and Vietnamese letters differ.
let measuring = null;
export function textWidth(text, size) {
  measuring ??= document.createElement('canvas').getContext('2d');
  const family = getComputedStyle(document.body).fontFamily || 'sans-serif';
  measuring.font = `600 100px ${family}`;
  return (measuring.measureText(text).width * size) / 100;
}

// "L1: in 12 · out 3"; on a small picture "L1: 12/3", then only "L1": a label never leaves the picture.
function lineLabel(line, counts, size, room) {
  const { inbound, outbound } = lineTotals(counts);
  const name = String(line.id ?? line.name ?? '');
  const forms = [
    `${name}: ${t('traffic.overlay.in')} ${inbound} · ${t('traffic.overlay.out')} ${outbound}`,
    `${name}: ${inbound}/${outbound}`,
    name,
  ];
  return forms.find((form) => textWidth(form, size) <= room) ?? name;
}

function drawLine(line, counts, scale, text, index, width, height) {
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
  const { 'font-size': size } = lineLabelPlace(index, text, height);
  const label = lineLabel(line, counts, size, width - 8 * text);
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
    svg('text', lineLabelPlace(index, text, height), label),
  );
}

// Counting lines' labels stack up from the picture's bottom-left corner, one row per line: never over
// each other, never cut at the picture's edge, whatever the line's position.
function lineLabelPlace(index, text, height) {
  const size = 11 * text;
  return { x: 4 * text, y: height - 5 * text - index * (size + 6 * text), 'font-size': size };
}

// Where a line's label lies, so that no box label is put over it.
function lineLabelArea(line, counts, index, text, width, height) {
  const { x, y, 'font-size': size } = lineLabelPlace(index, text, height);
  const label = lineLabel(line, counts, size, width - 8 * text);
  return { x, y: y - size, width: textWidth(label, size), height: size + 4 * text };
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

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

// A box with its class; the label (class name only: track numbers are for the worker's log, not the
// wall) goes above the box, inside the picture, and only where no label placed before covers it.
function drawBox(box, scale, text, placed, width, height, top) {
  const [x1, y1, x2, y2] = [box.x1, box.y1, box.x2, box.y2].map(Number);
  if (!finite(x1, y1, x2, y2) || x2 <= x1 || y2 <= y1) return null;
  const color = classColor(box.class);
  const label = className(box.class);
  const size = 10 * text;
  const tag = { width: textWidth(label, size) + 4 * text, height: size + 3 * text };
  tag.x = Math.max(0, Math.min(x1, width - tag.width));
  // Above the box, or inside its top edge where the strip kept at the picture's top (the card's badges)
  // or the picture's edge is in the way.
  tag.y = y1 - tag.height >= top ? y1 - tag.height : Math.max(y1, top);
  const fits = tag.width <= width && tag.y + tag.height <= height;
  const shown = label && fits && !placed.some((other) => overlaps(tag, other));
  if (shown) placed.push(tag);
  return svg(
    'g',
    {
      class: 'overlay-box',
      'data-class': String(box.class ?? ''),
      'data-track': box.track ?? null,
      'data-labelled': String(Boolean(shown)),
    },
    svg('rect', { x: x1, y: y1, width: x2 - x1, height: y2 - y1, stroke: color, 'stroke-width': 1.5 * scale }),
    shown ? svg('rect', { class: 'overlay-label-bg', ...tag, fill: color }) : null,
    shown ? svg('text', { x: tag.x + 2 * text, y: tag.y + tag.height - 3 * text, 'font-size': size }, label) : null,
  );
}

// Largest first: a bus keeps its label, a motorbike behind it does without.
function byArea(boxes) {
  const area = (box) => (Number(box.x2) - Number(box.x1)) * (Number(box.y2) - Number(box.y1)) || 0;
  return [...boxes].sort((a, b) => area(b) - area(a));
}

// The whole overlay as one <svg> sized to the image it covers, `shownWidth` CSS pixels wide on screen;
// no box label goes in the top `keepTopPx` CSS pixels (where the card shows its badges).
export function overlaySvg(overlay, shownWidth, { keepTopPx = 0 } = {}) {
  const width = Number(overlay.width) || 640;
  const height = Number(overlay.height) || 360;
  // Strokes and texts keep the same size on screen whatever the picture's resolution and the card's size.
  const shown = shownWidth > 0 ? shownWidth : 320;
  const scale = width / shown;
  // Texts too, except on a small picture (a laptop's wall), where they shrink down to three quarters.
  const text = scale * Math.min(1, Math.max(0.75, shown / 200));
  const top = keepTopPx * scale;
  const lines = overlay.lines ?? [];
  // Label rectangles drawn so far (the lines' first): no label covers another.
  const placed = lines.map((line, index) =>
    lineLabelArea(line, overlay.counts?.[line.id ?? line.name], index, text, width, height),
  );
  return svg(
    'svg',
    { class: 'overlay', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    svg('g', { class: 'overlay-zones' }, ...(overlay.zones ?? []).map((zone) => drawZone(zone, scale))),
    svg('g', { class: 'overlay-boxes' }, ...byArea(overlay.boxes ?? []).map((box) => drawBox(box, scale, text, placed, width, height, top))),
    svg(
      'g',
      { class: 'overlay-lines' },
      ...lines.map((line, index) =>
        drawLine(line, overlay.counts?.[line.id ?? line.name], scale, text, index, width, height),
      ),
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
