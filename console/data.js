// Lists every page needs (the caller's projects and applications) and the filters built on them.
import { api, withQuery } from './api.js';
import { h, replace, field, select, alertBox } from './ui.js';

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

function loadMore(onclick) {
  return h('button', { type: 'button', class: 'more', onclick }, 'Load more');
}

// A list endpoint shown page by page in `slot`: render(rows) draws what is loaded, "Load more"
// follows nextCursor. path and query are functions so filters are read at each fetch.
export function pagedList(slot, { path, query = () => ({}), render }) {
  let rows = [];
  let cursor = null;
  function show() {
    replace(slot, render(rows),
      cursor ? loadMore(async () => { try { await more(); } catch (error) { slot.append(alertBox(error)); } }) : null);
  }
  async function more() {
    const envelope = await api.get(withQuery(path(), { ...query(), cursor, limit: 50 }));
    rows = rows.concat(envelope.data);
    cursor = envelope.nextCursor;
    show();
  }
  return {
    // From the first page again (after a filter changed, or an action).
    async reload() {
      rows = [];
      cursor = null;
      try { await more(); } catch (error) { replace(slot, alertBox(error)); }
    },
    get rows() { return rows; },
    // New rows on top (live mode); with a cursor, `fresh` replaces everything (a gap below it).
    merge(fresh, nextCursor) {
      if (nextCursor !== undefined) {
        rows = fresh;
        cursor = nextCursor;
      } else {
        rows = fresh.concat(rows);
      }
      show();
    },
  };
}
