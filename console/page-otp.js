// OTP requests: the list (application and status filters, cursor paging) and one request's detail.
import { api } from './api.js';
import { h, replace, field, select, table, pageHeader, time, details, statusBadge } from './ui.js';
import { loadApplications, nameMap, applicationFilter, routeQuery, setRouteQuery, pagedList } from './data.js';

const STATUSES = ['pending', 'verified', 'failed', 'expired'];

export default async function otp(context) {
  if (context.params[0]) return otpDetail(context, context.params[0]);
  return otpList(context);
}

async function otpList({ container }) {
  const query = routeQuery();
  let appId = query.get('appId') || '';
  let status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const applications = await loadApplications();
  const appName = nameMap(applications);
  const list = h('div');
  const statusFilter = select('status', [['', 'Any status'], ...STATUSES.map((s) => [s, s])], { value: status });
  statusFilter.addEventListener('change', () => { status = statusFilter.value; refresh(); });
  replace(container,
    pageHeader('OTP requests'),
    h('div', { class: 'filters' }, applicationFilter(applications, appId, (value) => { appId = value; refresh(); }), field('Status', statusFilter)),
    list);

  const requests = pagedList(list, {
    path: () => '/v1/otp',
    query: () => ({ appId, status }),
    render: (rows) => table({
      caption: 'OTP requests, newest first',
      columns: [
        { label: 'Request', cell: (r) => h('a', { href: `#/otp/${encodeURIComponent(r.id)}` }, h('code', {}, r.id)) },
        { label: 'Application', cell: (r) => appName(r.appId) },
        { label: 'Phone', cell: (r) => r.phone, nowrap: true },
        { label: 'Status', cell: (r) => statusBadge(r.status) },
        { label: 'Attempts', cell: (r) => String(r.attempts) },
        { label: 'Delivery', cell: (r) => r.deliveryStatus || '—' },
        { label: 'Created', cell: (r) => time(r.createdAt) },
      ],
      rows,
      empty: appId || status
        ? 'No OTP requests match these filters.'
        : 'No OTP requests yet. Send one from your backend with POST /v1/otp/send and your application\'s credentials (or "Send a test code" when you create an application).',
    }),
  });
  async function refresh() {
    setRouteQuery('#/otp', { appId, status });
    await requests.reload();
  }
  await refresh();
}

async function otpDetail({ container }, id) {
  let request;
  try {
    request = (await api.get(`/v1/otp/${encodeURIComponent(id)}`)).data;
  } catch (error) {
    if (error.status === 404) {
      replace(container, pageHeader('OTP request not found'), h('p', {}, 'No such request. ', h('a', { href: '#/otp' }, 'Back to OTP requests'), '.'));
      return;
    }
    throw error;
  }
  const applications = await loadApplications();
  const appName = nameMap(applications);
  replace(container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/otp' }, 'OTP requests'), ' / ', request.id),
    pageHeader('OTP request'),
    details([
      ['Request ID', h('code', {}, request.requestId)],
      ['Application', h('a', { href: `#/applications/${encodeURIComponent(request.appId)}` }, appName(request.appId))],
      ['Phone', request.phone],
      ['Number type', request.numberType],
      ['Region', request.region],
      ['Status', statusBadge(request.status)],
      ['Attempts', String(request.attempts)],
      ['Delivery status', request.deliveryStatus || '—'],
      ['Created', time(request.createdAt)],
      ['Expires', time(request.expiresAt)],
      ['Verified', request.verifiedAt ? time(request.verifiedAt) : '—'],
    ]),
  );
}
