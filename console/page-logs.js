// Logs: every OTP event of your applications, newest first, with paging and a live mode that
// polls for new events.
import { api, withQuery } from './api.js';
import { h, replace, table, pageHeader, time, statusBadge } from './ui.js';
import { loadApplications, nameMap, applicationFilter, routeQuery, setRouteQuery, pagedList } from './data.js';

const LIVE_MS = 3000;

export default async function logs({ container }) {
  let appId = routeQuery().get('appId') || '';
  const applications = await loadApplications();
  const appName = nameMap(applications);
  const list = h('div');
  const live = h('input', { type: 'checkbox', id: 'logs-live' });
  const liveStatus = h('p', { class: 'hint', role: 'status' });
  let timer = null;
  let stopped = false;

  live.addEventListener('change', () => {
    liveStatus.textContent = live.checked ? 'Live: new events appear at the top every few seconds.' : '';
    schedule();
  });
  replace(container,
    pageHeader('Logs'),
    h('div', { class: 'filters' },
      applicationFilter(applications, appId, (value) => { appId = value; refresh(); }),
      h('div', { class: 'field field-check' }, live, h('label', { for: 'logs-live' }, 'Live mode'))),
    liveStatus,
    list);

  const events = pagedList(list, {
    path: () => '/v1/logs',
    query: () => ({ appId }),
    render: (rows) => table({
      caption: 'Events, newest first',
      columns: [
        { label: 'Time', cell: (e) => time(e.createdAt) },
        { label: 'Event', cell: (e) => h('code', {}, e.event) },
        { label: 'Application', cell: (e) => appName(e.appId) },
        { label: 'Phone', cell: (e) => e.phone || '—', nowrap: true },
        { label: 'Status', cell: (e) => (e.status ? statusBadge(e.status) : '—') },
        { label: 'Request', cell: (e) => (e.requestId ? h('a', { href: `#/otp/${encodeURIComponent(e.requestId)}` }, h('code', {}, e.requestId)) : '—') },
        { label: 'Detail', cell: (e) => describe(e.detail) },
      ],
      rows,
      empty: appId
        ? 'No events for this application yet.'
        : 'No events yet. Every code sent, verified, failed or expired is logged here.',
    }),
  });

  // Live mode: the newest page, merged on top of what is shown.
  async function poll() {
    try {
      const envelope = await api.get(withQuery('/v1/logs', { appId, limit: 50 }));
      if (stopped) return;
      const known = new Set(events.rows.map((row) => row.id));
      const fresh = envelope.data.filter((row) => !known.has(row.id));
      if (fresh.length === envelope.data.length && envelope.nextCursor) {
        // A whole page is new: there may be a gap below it, so start over from this page.
        events.merge(envelope.data, envelope.nextCursor);
      } else if (fresh.length) {
        events.merge(fresh);
      }
    } catch (error) {
      if (!stopped) liveStatus.textContent = `Live mode paused: ${error.message}`;
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && live.checked) timer = setTimeout(poll, LIVE_MS);
  }

  async function refresh() {
    setRouteQuery('#/logs', { appId });
    await events.reload();
  }

  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

function describe(detail) {
  if (!detail || typeof detail !== 'object') return detail ? String(detail) : '—';
  const parts = Object.entries(detail).map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`);
  return parts.length ? parts.join(', ') : '—';
}
