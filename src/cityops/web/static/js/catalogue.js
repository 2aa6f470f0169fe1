// What /api/meta says about entity types and their metrics, looked up by name.
import { formatMeasure, pick } from './i18n.js';

const FALLBACK_COLOR = '#9aa7b4';

export class Catalogue {
  constructor(meta) {
    this.simulated = Boolean(meta.simulated);
    this.version = meta.version;
    this.types = new Map();
    for (const domain of meta.domains ?? []) {
      for (const entityType of domain.entity_types ?? []) {
        this.types.set(entityType.type, {
          ...entityType,
          domain: domain.name,
          metrics: new Map((entityType.metrics ?? []).map((metric) => [metric.name, metric])),
        });
      }
    }
  }

  color(type) {
    return this.types.get(type)?.color ?? FALLBACK_COLOR;
  }

  typeTitle(type) {
    return pick(this.types.get(type)?.title) || type;
  }

  metricTitle(type, metric) {
    return pick(this.types.get(type)?.metrics.get(metric)?.title) || metric;
  }

  formatValue(type, metric, value) {
    return formatMeasure(value, this.types.get(type)?.metrics.get(metric)?.unit);
  }

  // MapLibre expression: the colour of each entity type.
  colorExpression() {
    const pairs = [...this.types.values()].flatMap((entityType) => [entityType.type, entityType.color]);
    return pairs.length ? ['match', ['get', 'type'], ...pairs, FALLBACK_COLOR] : FALLBACK_COLOR;
  }
}
