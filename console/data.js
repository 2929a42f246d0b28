// Lists every page needs (the caller's projects and applications) and the filters built on them.
import { api, withQuery } from './api.js';
import { h, field, select } from './ui.js';

// Follows nextCursor to the end (projects and applications are bounded by the plan).
export async function listAll(path, params = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 50; page += 1) {
    const envelope = await api.get(withQuery(path, { ...params, limit: 200, cursor }));
    items.push(...envelope.data);
    cursor = envelope.nextCursor;
    if (!cursor) break;
  }
  return items;
}

export const loadProjects = () => listAll('/v1/projects');
export const loadApplications = (projectId) => listAll('/v1/applications', { projectId });

export function nameMap(items) {
  const names = new Map();
  for (const item of items) names.set(item.id, item.name);
  return (id) => (id ? names.get(id) || id : '—');
}

// An "Application" select (All applications + each app) that calls onchange(value).
export function applicationFilter(applications, value, onchange, label = 'Application') {
  const control = select('appId', [['', 'All applications'], ...applications.map((app) => [app.id, `${app.name} (${app.environment})`])], { value });
  control.addEventListener('change', () => onchange(control.value));
  return field(label, control);
}

// Reads ?key=value pairs kept after the route (#/otp?appId=...) — filters survive a reload.
export function routeQuery() {
  const index = location.hash.indexOf('?');
  return new URLSearchParams(index === -1 ? '' : location.hash.slice(index + 1));
}

export function setRouteQuery(base, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  history.replaceState(null, '', text ? `${base}?${text}` : base);
}

export function loadMore(onclick) {
  return h('button', { type: 'button', class: 'more', onclick }, 'Load more');
}
