// The deadline an incident is running against (acknowledge while new or reopened, then resolve) and
// the countdown, or how late it is.
import { formatClockDuration, t } from './i18n.js';

const AWAITING_ACKNOWLEDGEMENT = new Set(['new', 'reopened']);
const ACTIVE = new Set(['new', 'acknowledged', 'assigned', 'reopened']);

export function deadlineOf(incident) {
  if (AWAITING_ACKNOWLEDGEMENT.has(incident.state) && incident.acknowledge_due) {
    return { stage: 'acknowledge', due: Date.parse(incident.acknowledge_due) };
  }
  if (ACTIVE.has(incident.state) && incident.resolve_due) {
    return { stage: 'resolve', due: Date.parse(incident.resolve_due) };
  }
  return null;
}

export function slaText(incident, now) {
  const deadline = deadlineOf(incident);
  if (!deadline) return null;
  const left = deadline.due - now;
  const overdue = left < 0;
  const text = overdue
    ? t(`incidents.overdue.${deadline.stage}`, { late: formatClockDuration(-left) })
    : t(`incidents.due.${deadline.stage}`, { left: formatClockDuration(left) });
  return { ...deadline, overdue, text };
}
