// Inbox: the messages the inbox driver holds (virtual +999 numbers, test apps, --sms-driver
// inbox), filtered by phone and application, refreshing by itself every few seconds.
import { api, withQuery } from './api.js';
import { h, replace, field, input, table, pageHeader, time, alertBox } from './ui.js';
import { loadApplications, nameMap, applicationFilter, routeQuery, setRouteQuery } from './data.js';

const REFRESH_MS = 3000;

export default async function inbox({ container }) {
  const query = routeQuery();
  let appId = query.get('appId') || '';
  let phone = query.get('phone') || '';
  const applications = await loadApplications();
  const appName = nameMap(applications);
  const list = h('div', { 'aria-live': 'polite', 'aria-busy': 'false' });
  const phoneInput = input('phone', { type: 'search', value: phone, placeholder: '+999 123 456 789', autocomplete: 'off' });
  const auto = h('input', { type: 'checkbox', id: 'inbox-auto', checked: true });
  let timer = null;
  let stopped = false;

  const filters = h('form', { class: 'filters', role: 'search', onsubmit: (event) => { event.preventDefault(); phone = phoneInput.value.trim(); refresh(); } },
    field('Phone', phoneInput),
    applicationFilter(applications, appId, (value) => { appId = value; refresh(); }),
    h('div', { class: 'field field-inline' }, h('button', { type: 'submit' }, 'Filter')),
    h('div', { class: 'field field-check' }, auto, h('label', { for: 'inbox-auto' }, 'Refresh automatically')));
  auto.addEventListener('change', schedule);
  replace(container,
    pageHeader('Inbox'),
    h('p', { class: 'lede' }, 'Codes sent to virtual numbers (+999…), by test applications, or with --sms-driver inbox arrive here instead of on a phone. A message reads "[expired]" once its code is used or expires.'),
    filters,
    list);

  async function refresh() {
    setRouteQuery('#/inbox', { appId, phone });
    try {
      const envelope = await api.get(withQuery('/v1/inbox', { appId, phone, limit: 100 }));
      if (stopped) return;
      replace(list, table({
        caption: 'Messages, newest first',
        columns: [
          { label: 'Received', cell: (m) => time(m.createdAt) },
          { label: 'Phone', cell: (m) => m.phone, nowrap: true },
          { label: 'Application', cell: (m) => appName(m.appId) },
          { label: 'Message', cell: (m) => h('span', { class: 'message' }, m.message) },
          { label: 'Request', cell: (m) => h('a', { href: `#/otp/${encodeURIComponent(m.requestId)}` }, 'Details') },
        ],
        rows: envelope.data,
        empty: phone || appId
          ? 'No messages match these filters.'
          : 'The inbox is empty. Send a code to a +999 number (or with a test application) and watch it arrive here.',
      }));
    } catch (error) {
      if (!stopped) replace(list, alertBox(error));
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && auto.checked) timer = setTimeout(refresh, REFRESH_MS);
  }

  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}
