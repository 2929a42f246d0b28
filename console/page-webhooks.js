// Webhooks: list, create (events as checkboxes), edit, enable/disable, delete, "Send test event",
// and each webhook's delivery log with "Retry".
import { api } from './api.js';
import {
  h, replace, field, input, form, table, pageHeader, button, openDialog, confirmAction, time, alertBox,
  details, statusBadge, errorText, select, uniqueId,
} from './ui.js';
import { loadApplications, nameMap, applicationFilter, routeQuery, setRouteQuery, pagedList } from './data.js';

const EVENTS = [
  'otp.created', 'otp.verified', 'otp.failed', 'otp.expired', 'otp.blocked',
  'identity.created', 'identity.updated', 'application.created', 'application.deleted',
];

export default async function webhooks(context) {
  if (context.params[0]) return webhookDetail(context, context.params[0]);
  return webhookList(context);
}

// The URL field and the events checkboxes, shared by create and edit.
function webhookFields(webhook) {
  const chosen = new Set(webhook ? webhook.events : ['otp.verified']);
  const legendId = uniqueId('events');
  return [
    field('URL', input('url', { type: 'url', value: webhook ? webhook.url : '', maxlength: 2048, placeholder: 'https://example.com/hooks/cobinar', required: true }),
      'Where deliveries are POSTed. https:// (http:// only when the server allows it).'),
    h('fieldset', { class: 'events', 'aria-describedby': `${legendId}-error` },
      h('legend', { id: legendId }, 'Events'),
      EVENTS.map((event) => {
        const id = uniqueId('event');
        return h('div', { class: 'check' },
          h('input', { type: 'checkbox', name: 'events', value: event, id, checked: chosen.has(event) }),
          h('label', { for: id }, event));
      }),
      h('p', { class: 'field-error', id: `${legendId}-error`, 'data-error-for': 'events' })),
  ];
}

async function webhookList({ container, navigate }) {
  let appId = routeQuery().get('appId') || '';
  const applications = await loadApplications();
  const appName = nameMap(applications);
  const list = h('div');
  replace(container,
    pageHeader('Webhooks', button('New webhook', () => createWebhook(), { class: 'primary' })),
    h('p', { class: 'lede' }, 'Signed POSTs to your systems when codes are created, verified, fail or expire, and when a send is blocked.'),
    h('div', { class: 'filters' }, applicationFilter(applications, appId, (value) => { appId = value; refresh(); }, 'Show')),
    list);

  const hooks = pagedList(list, {
    path: () => '/v1/webhooks',
    query: () => ({ appId }),
    render: (rows) => table({
      caption: 'Your webhooks, newest first',
      columns: [
        { label: 'URL', cell: (w) => h('a', { href: `#/webhooks/${encodeURIComponent(w.id)}` }, w.url) },
        { label: 'Application', cell: (w) => appName(w.appId) },
        { label: 'Events', cell: (w) => w.events.join(', ') },
        { label: 'Status', cell: (w) => statusBadge(w.status) },
        { label: 'Created', cell: (w) => time(w.createdAt) },
      ],
      rows,
      empty: applications.length === 0
        ? 'No webhooks yet. Create an application first (Applications), then a webhook for it.'
        : 'No webhooks yet. Choose "New webhook" to have events POSTed to your systems.',
    }),
  });
  async function refresh() {
    setRouteQuery('#/webhooks', { appId });
    await hooks.reload();
  }

  function createWebhook() {
    if (applications.length === 0) {
      openDialog({ title: 'New webhook', body: h('p', {}, 'A webhook belongs to an application, and you have none yet. ', h('a', { href: '#/applications' }, 'Create an application first'), '.') });
      return;
    }
    const dialog = openDialog({
      title: 'New webhook',
      body: form({
        fields: [
          field('Application', select('appId', applications.map((a) => [a.id, `${a.name} (${a.environment})`]), { value: appId || applications[0].id })),
          ...webhookFields(null),
        ],
        submitLabel: 'Create',
        action: async (values) => {
          const created = (await api.post('/v1/webhooks', { appId: values.get('appId'), url: values.get('url'), events: values.getAll('events') })).data;
          dialog.close();
          navigate(`#/webhooks/${encodeURIComponent(created.id)}`);
        },
      }),
    });
  }

  await refresh();
}

async function webhookDetail({ container, navigate }, id) {
  const path = `/v1/webhooks/${encodeURIComponent(id)}`;
  let webhook;
  try {
    webhook = (await api.get(path)).data;
  } catch (error) {
    if (error.status === 404) {
      replace(container, pageHeader('Webhook not found'), h('p', {}, 'No such webhook. ', h('a', { href: '#/webhooks' }, 'Back to webhooks'), '.'));
      return;
    }
    throw error;
  }
  const applications = await loadApplications();
  const appName = nameMap(applications);
  const testResult = h('div', { role: 'status', class: 'test-result' });
  const deliveries = h('div');
  const statusAlert = h('p', { class: 'alert', role: 'alert', hidden: true });

  function render() {
    replace(container,
      h('p', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, 'Webhooks'), ' / ', webhook.url),
      pageHeader('Webhook', statusBadge(webhook.status)),
      details([
        ['URL', webhook.url],
        ['Application', h('a', { href: `#/applications/${encodeURIComponent(webhook.appId)}` }, appName(webhook.appId))],
        ['Events', webhook.events.join(', ')],
        ['Status', webhook.status],
        ['Created', time(webhook.createdAt)],
        ['Updated', time(webhook.updatedAt)],
      ]),
      h('section', { class: 'panel', 'aria-labelledby': 'test-title' },
        h('h2', { id: 'test-title' }, 'Test'),
        h('p', {}, 'Sends one signed otp.verified test event now and shows what your endpoint answered.'),
        button('Send test event', sendTest, { class: 'primary' }),
        testResult),
      h('section', { class: 'panel', 'aria-labelledby': 'edit-title' },
        h('h2', { id: 'edit-title' }, 'Edit'),
        form({
          fields: webhookFields(webhook),
          submitLabel: 'Save',
          action: async (values) => {
            webhook = (await api.patch(path, { url: values.get('url'), events: values.getAll('events') })).data;
            render();
            await loadDeliveries();
            testResult.textContent = 'Saved.';
          },
        }),
        h('div', { class: 'actions' },
          statusAlert,
          button(webhook.status === 'enabled' ? 'Disable' : 'Enable', async () => {
            try {
              webhook = (await api.patch(path, { status: webhook.status === 'enabled' ? 'disabled' : 'enabled' })).data;
              render();
              await loadDeliveries();
            } catch (error) {
              statusAlert.textContent = errorText(error);
              statusAlert.hidden = false;
            }
          }),
          button('Delete', async () => {
            const deleted = await confirmAction({
              title: 'Delete this webhook?',
              message: `Deliveries to ${webhook.url} stop, and its delivery log is removed. This cannot be undone.`,
              action: () => api.delete(path),
            });
            if (deleted) navigate('#/webhooks');
          }, { class: 'danger' }))),
      h('section', { class: 'panel', 'aria-labelledby': 'deliveries-title' },
        h('div', { class: 'section-head' },
          h('h2', { id: 'deliveries-title' }, 'Deliveries'),
          button('Refresh', () => loadDeliveries())),
        deliveries));
  }

  async function sendTest() {
    replace(testResult, 'Sending…');
    try {
      const outcome = (await api.post(`${path}/test`, {})).data;
      replace(testResult, h('p', { class: outcome.delivered ? 'ok' : 'bad' },
        outcome.delivered
          ? `Delivered: your endpoint answered HTTP ${outcome.statusCode}.`
          : outcome.statusCode === null || outcome.statusCode === undefined
            ? 'Not delivered: nothing answered (see the error in the delivery log below).'
            : `Not delivered: your endpoint answered HTTP ${outcome.statusCode}.`));
    } catch (error) {
      replace(testResult, alertBox(error));
    }
    await loadDeliveries();
  }

  const deliveryLog = pagedList(deliveries, {
    path: () => `${path}/deliveries`,
    render: (rows) => table({
      caption: 'Delivery log, newest first',
      columns: [
        { label: 'Event', cell: (d) => h('code', { class: 'nowrap' }, d.event) },
        { label: 'Status', cell: (d) => statusBadge(d.status) },
        { label: 'Attempts', cell: (d) => String(d.attempts) },
        { label: 'Result', cell: (d) => result(d) },
        { label: 'Last attempt', cell: (d) => time(d.lastAttemptAt) },
        { label: 'Next retry', cell: (d) => (d.status === 'pending' && d.nextAttemptAt ? time(d.nextAttemptAt) : '—') },
        { label: 'Actions', cell: (d) => retryButton(d) },
      ],
      rows,
      empty: 'No deliveries yet. Choose "Send test event", or send a code through this webhook\'s application.',
    }),
  });

  // The response code and, when it failed, why.
  function result(delivery) {
    const code = delivery.lastStatusCode === null || delivery.lastStatusCode === undefined ? null : `HTTP ${delivery.lastStatusCode}`;
    if (!delivery.lastError || delivery.lastError === code) return code || '—';
    return h('span', { class: 'delivery-error' }, code ? `${code}: ` : '', delivery.lastError);
  }

  function retryButton(delivery) {
    return button('Retry', async (event) => {
      const target = event.currentTarget;
      target.disabled = true;
      try {
        const retried = (await api.post(`${path}/deliveries/${encodeURIComponent(delivery.id)}/retry`, {})).data;
        testResult.textContent = retried.status === 'succeeded'
          ? `Retried: delivered, HTTP ${retried.lastStatusCode}.`
          : `Retried: not delivered${retried.lastStatusCode ? `, HTTP ${retried.lastStatusCode}` : ''}${retried.lastError ? ` (${retried.lastError})` : ''}.`;
      } catch (error) {
        testResult.replaceChildren(alertBox(error));
      }
      await loadDeliveries();
    });
  }

  async function loadDeliveries() {
    await deliveryLog.reload();
  }

  render();
  await loadDeliveries();
}
