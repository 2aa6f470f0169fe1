// Severity colours live in the style sheet (--severity-<name>); the map reads them from there.
import { cssColor } from './dom.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'];

export function severityColorExpression() {
  const pairs = SEVERITIES.flatMap((severity) => [severity, cssColor(`--severity-${severity}`)]);
  return ['match', ['get', 'severity'], ...pairs, cssColor('--unknown')];
}
