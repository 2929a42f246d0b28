// Applications: list (by project), create (credentials shown once, with a test send), and a
// detail page: status, name, project, OTP policy, templates and abuse controls, the conversion
// breaker's open blocks (with Lift), rotation of each credential, webhook-secret reveal, delete.
import { api } from './api.js';
import {
  h, replace, field, input, select, form, table, pageHeader, button, openDialog, confirmAction, time,
  alertBox, secretValue, details, statusBadge, errorText, formAlert,
} from './ui.js';
import { loadProjects, loadApplications, nameMap, routeQuery, setRouteQuery } from './data.js';
import { policySection } from './policy.js';
import { blocksSection } from './blocks.js';
import { receiptView } from './receipt.js';

const CREDENTIAL_TYPES = [
  ['secret', 'Client secret'],
  ['api', 'API key'],
  ['webhook_secret', 'Webhook secret'],
];

export default async function applications(context) {
  if (context.params[0]) return applicationDetail(context, context.params[0]);
  return applicationList(context);
}

async function applicationList({ container, navigate }) {
  let projectId = routeQuery().get('projectId') || '';
  const projects = await loadProjects();
  const projectName = nameMap(projects);
  const list = h('div');
  const projectFilter = select('projectId', [['', 'All projects'], ...projects.map((p) => [p.id, p.name])], { value: projectId });
  projectFilter.addEventListener('change', () => { projectId = projectFilter.value; refresh(); });
  replace(container,
    pageHeader('Applications', button('New application', () => createApplication(), { class: 'primary' })),
    h('div', { class: 'filters' }, field('Show', projectFilter)),
    list);

  async function refresh() {
    setRouteQuery('#/applications', { projectId });
    try {
      const items = await loadApplications(projectId);
      replace(list, table({
        caption: 'Your applications, newest first',
        columns: [
          { label: 'Name', cell: (a) => h('a', { href: `#/applications/${encodeURIComponent(a.id)}` }, a.name) },
          { label: 'Project', cell: (a) => projectName(a.projectId) },
          { label: 'Environment', cell: (a) => a.environment },
          { label: 'Status', cell: (a) => statusBadge(a.status) },
          { label: 'Client ID', cell: (a) => h('code', {}, a.clientId) },
          { label: 'Created', cell: (a) => time(a.createdAt) },
        ],
        rows: items,
        empty: projects.length === 0
          ? 'No applications yet, and no project to put one in: create a project under Projects first.'
          : 'No applications here yet. Choose "New application" to get a client ID, secret and API key.',
      }));
    } catch (error) {
      replace(list, alertBox(error));
    }
  }

  function createApplication() {
    if (projects.length === 0) {
      openDialog({
        title: 'New application',
        body: h('div', {}, h('p', {}, 'An application lives in a project, and you have none yet.'),
          h('p', {}, h('a', { href: '#/projects' }, 'Create a project first'), '.')),
      });
      return;
    }
    const dialog = openDialog({
      title: 'New application',
      body: form({
        fields: [
          field('Name', input('name', { maxlength: 100, required: true }), '1 to 100 characters.'),
          field('Project', select('projectId', projects.map((p) => [p.id, p.name]), { value: projectId || projects[0].id })),
          field('Environment', select('environment', [['test', 'test — codes come back in the answer, nothing is sent'], ['live', 'live — codes go to the phone']], { value: 'test' })),
        ],
        submitLabel: 'Create',
        action: async (values) => {
          const created = await api.post('/v1/applications', Object.fromEntries(values.entries()));
          dialog.close();
          await refresh();
          showCredentials(created.data, navigate);
        },
      }),
    });
  }

  await refresh();
}

// The four credentials of a new application, shown once, and a test send with them.
function showCredentials(app, navigate) {
  const credentials = { clientId: app.clientId, clientSecret: app.clientSecret, apiKey: app.apiKey };
  const result = h('div', { class: 'test-result', role: 'status' });
  const phone = input('phone', { type: 'tel', autocomplete: 'off', value: '+999 123 456 789' });
  const testForm = form({
    fields: [field('Phone number', phone, 'Numbers starting +999 are virtual: their codes land in the Inbox.')],
    submitLabel: 'Send a test code',
    action: async (values) => {
      replace(result, 'Sending…');
      try {
        const sent = (await api.withAppCredentials('/v1/otp/send', { phone: values.get('phone') }, credentials)).data;
        replace(result,
          h('p', {}, `Code requested for ${sent.phone} (request ${sent.requestId}).`),
          sent.testCode
            ? h('p', {}, 'Test code: ', h('strong', { class: 'code' }, sent.testCode))
            : h('p', {}, 'The code is on its way. Virtual numbers: see the ', h('a', { href: '#/inbox', onclick: () => dialog.close() }, 'Inbox'), '.'),
          verifyForm(sent));
      } catch (error) {
        replace(result);
        throw error;
      }
    },
  });
  // Checks a code as your backend will (POST /v1/otp/verify), with the same credentials.
  // The code's shape is the application's policy: its length and alphabet come with the send.
  // A verified code's answer carries a signed receipt, shown decoded below the outcome; only the
  // outcome is announced (the receipt's block is kept out of the live region around it).
  function verifyForm(sent) {
    const outcome = h('p', { role: 'status' });
    const receipt = h('div', { 'aria-live': 'off' });
    const length = sent.codeLength || 6;
    const letters = sent.codeAlphabet === 'alphanumeric';
    const code = input('code', {
      inputmode: letters ? 'text' : 'numeric',
      autocapitalize: letters ? 'characters' : null,
      spellcheck: 'false',
      autocomplete: 'one-time-code',
      maxlength: length,
      value: sent.testCode || '',
    });
    const verify = form({
      fields: [field('Code', code, letters ? `The ${length} letters and digits from the message.` : `The ${length} digits from the message.`)],
      submitLabel: 'Verify code',
      action: async (values) => {
        outcome.textContent = '';
        replace(receipt);
        const verified = (await api.withAppCredentials('/v1/otp/verify', { requestId: sent.requestId, code: values.get('code') }, credentials)).data;
        outcome.textContent = `Verified: ${verified.phone} at ${verified.verifiedAt}. It now appears under Users, Logs and the Dashboard.`
          + (verified.receipt ? ' Its signed receipt is below.' : '');
        if (verified.receipt) replace(receipt, receiptView(verified));
      },
    });
    return h('div', { class: 'verify' }, verify, outcome, receipt);
  }
  const dialog = openDialog({
    title: `Credentials for ${app.name}`,
    focusTitle: true,
    body: h('div', { class: 'credentials' },
      h('p', { class: 'warning', role: 'note' }, app.warning || 'Store these credentials now: the client secret and API key are shown only once.'),
      secretValue('Client ID', app.clientId),
      secretValue('Client secret', app.clientSecret),
      secretValue('API key', app.apiKey),
      secretValue('Webhook secret', app.webhookSecret),
      h('section', { class: 'test-send', 'aria-labelledby': 'test-send-title' },
        h('h3', { id: 'test-send-title' }, 'Try it'),
        h('p', {}, 'Send a code with these credentials, as your backend will (POST /v1/otp/send).'),
        testForm,
        result),
      h('div', { class: 'actions' },
        button('Open the application', () => { dialog.close(); navigate(`#/applications/${encodeURIComponent(app.id)}`); }))),
  });
}

async function applicationDetail({ container, navigate }, id) {
  const path = `/v1/applications/${encodeURIComponent(id)}`;
  let app;
  try {
    app = (await api.get(path)).data;
  } catch (error) {
    if (error.status === 404) {
      replace(container, pageHeader('Application not found'), h('p', {}, 'No such application. ', h('a', { href: '#/applications' }, 'Back to applications'), '.'));
      return;
    }
    throw error;
  }
  const [projects, policy, blocks] = await Promise.all([loadProjects(), policySection(path, app), blocksSection(path, app)]);
  const projectName = nameMap(projects);

  function render() {
    replace(container,
      h('p', { class: 'crumbs' }, h('a', { href: '#/applications' }, 'Applications'), ' / ', app.name),
      pageHeader(app.name, statusBadge(app.status)),
      details([
        ['Client ID', h('code', {}, app.clientId)],
        ['Client secret (masked)', h('code', {}, app.clientSecretPreview)],
        ['API key (masked)', h('code', {}, app.apiKeyPreview)],
        ['Environment', app.environment],
        ['Project', projectName(app.projectId)],
        ['Status', app.status],
        ['Created', time(app.createdAt)],
        ['Updated', time(app.updatedAt)],
        ['Last rotation', app.rotatedAt ? time(app.rotatedAt) : 'never'],
      ]),
      settingsSection(),
      policy,
      blocks,
      statusSection(),
      rotationSection(),
      webhookSecretSection(),
      h('section', { class: 'panel', 'aria-labelledby': 'more-title' },
        h('h2', { id: 'more-title' }, 'Activity'),
        h('p', {},
          h('a', { href: `#/otp?appId=${encodeURIComponent(app.id)}` }, 'OTP requests'), ' · ',
          h('a', { href: `#/webhooks?appId=${encodeURIComponent(app.id)}` }, 'Webhooks'), ' · ',
          h('a', { href: `#/logs?appId=${encodeURIComponent(app.id)}` }, 'Logs'), ' · ',
          h('a', { href: `#/dashboard?appId=${encodeURIComponent(app.id)}` }, 'Dashboard'))),
      dangerSection());
  }

  function settingsSection() {
    return h('section', { class: 'panel', 'aria-labelledby': 'settings-title' },
      h('h2', { id: 'settings-title' }, 'Settings'),
      form({
        fields: [
          field('Name', input('name', { value: app.name, maxlength: 100, required: true })),
          field('Project', select('projectId', projects.map((p) => [p.id, p.name]), { value: app.projectId }), 'Move the application to another of your projects.'),
        ],
        submitLabel: 'Save',
        action: async (values) => {
          app = (await api.patch(path, { name: values.get('name'), projectId: values.get('projectId') })).data;
          render();
          announce('Saved.');
        },
      }));
  }

  function statusSection() {
    const alert = formAlert();
    const enabling = app.status !== 'active';
    return h('section', { class: 'panel', 'aria-labelledby': 'status-title' },
      h('h2', { id: 'status-title' }, 'Status'),
      h('p', {}, enabling
        ? 'Disabled: its credentials are refused with 403 FORBIDDEN until you enable it again.'
        : 'Active: its credentials can send and verify codes.'),
      alert,
      button(enabling ? 'Enable' : 'Disable', async () => {
        try {
          app = (await api.patch(path, { status: enabling ? 'active' : 'disabled' })).data;
          render();
          announce(enabling ? 'Application enabled.' : 'Application disabled.');
        } catch (error) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      }));
  }

  function rotationSection() {
    return h('section', { class: 'panel', 'aria-labelledby': 'rotate-title' },
      h('h2', { id: 'rotate-title' }, 'Rotate credentials'),
      h('p', {}, 'A new value is shown once. The old one stops working at once, unless you keep it valid for a grace period while your backends move to the new one.'),
      CREDENTIAL_TYPES.map(([type, label]) => {
        const grace = input('graceSeconds', { type: 'number', min: 0, max: 86400, step: 1, value: '0', inputmode: 'numeric' });
        return h('fieldset', { class: 'rotate' },
          h('legend', {}, label),
          form({
            fields: [field('Grace period (seconds)', grace, '0 to 86400; 0 = the old value stops now.')],
            submitLabel: 'Rotate',
            action: async (values) => {
              const seconds = Number(values.get('graceSeconds') || 0);
              const body = seconds > 0 ? { graceSeconds: seconds } : {};
              const rotated = (await api.post(`${path}/rotate/${type}`, body)).data;
              app = (await api.get(path)).data;
              render();
              openDialog({
                title: `New ${label.toLowerCase()}`,
                focusTitle: true,
                body: h('div', { class: 'credentials' },
                  h('p', { class: 'warning', role: 'note' },
                    type === 'webhook_secret'
                      ? 'Update your webhook receivers with this secret.'
                      : `Store this ${label.toLowerCase()} now: it is shown only once.`,
                    seconds > 0 ? ` The old value keeps working for ${seconds} seconds.` : ' The old value no longer works.'),
                  secretValue(label, rotated.value),
                  h('p', {}, 'Rotated at ', time(rotated.rotatedAt), '.')),
              });
            },
          }));
      }));
  }

  function webhookSecretSection() {
    const slot = h('div');
    const reveal = button('Reveal webhook secret', async () => {
      try {
        const secret = (await api.get(`${path}/webhook-secret`)).data.webhookSecret;
        replace(slot, secretValue('Webhook secret', secret), button('Hide', () => { replace(slot); reveal.focus(); }));
      } catch (error) {
        replace(slot, alertBox(error));
      }
    });
    return h('section', { class: 'panel', 'aria-labelledby': 'whsec-title' },
      h('h2', { id: 'whsec-title' }, 'Webhook secret'),
      h('p', {}, 'Your receivers check each delivery\'s signature with this secret (see the README, "Verifying a webhook").'),
      reveal, slot);
  }

  function dangerSection() {
    return h('section', { class: 'panel danger-zone', 'aria-labelledby': 'delete-title' },
      h('h2', { id: 'delete-title' }, 'Delete this application'),
      h('p', {}, 'Its credentials and webhooks are removed; its OTP history stays in logs and analytics.'),
      button('Delete', async () => {
        const deleted = await confirmAction({
          title: `Delete ${app.name}?`,
          message: 'Its client ID, secret and API key stop working at once and its webhooks are deleted. This cannot be undone.',
          action: () => api.delete(path),
        });
        if (deleted) navigate('#/applications');
      }, { class: 'danger' }));
  }

  function announce(text) {
    const live = document.getElementById('announcer');
    if (live) live.textContent = text;
  }

  render();
}
