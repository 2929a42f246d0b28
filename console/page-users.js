// Users: the identities (phones verified through your apps), newest first, and lookup by phone.
import { api } from './api.js';
import { h, replace, field, input, form, table, pageHeader, time, details } from './ui.js';
import { loadApplications, nameMap, pagedList } from './data.js';

export default async function users({ container }) {
  const applications = await loadApplications();
  const appName = nameMap(applications);
  const found = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const lookup = form({
    fields: [field('Phone number', input('phoneNumber', { type: 'search', placeholder: '+999 123 456 789', autocomplete: 'off' }))],
    submitLabel: 'Look up',
    action: async (values) => {
      const phone = String(values.get('phoneNumber') || '').trim();
      replace(found);
      if (!phone) return;
      try {
        const identity = (await api.get(`/v1/users/${encodeURIComponent(phone)}`)).data;
        replace(found, h('section', { class: 'panel', 'aria-label': 'Lookup result' }, h('h2', {}, identity.phoneNumber), identityDetails(identity)));
      } catch (error) {
        if (error.status === 404 && error.code === 'NOT_FOUND') {
          replace(found, h('p', { class: 'empty', role: 'status' }, `No identity for ${phone}: it has not been verified through any of your applications.`));
          return;
        }
        throw error;
      }
    },
  });
  lookup.classList.add('lookup');
  replace(container, pageHeader('Users'),
    h('p', { class: 'lede' }, 'A user is a phone number verified through one of your applications.'),
    lookup, found, list);

  function identityDetails(identity) {
    return details([
      ['Phone number', identity.phoneNumber],
      ['First verified', time(identity.createdAt)],
      ['Last verified', time(identity.lastVerifiedAt)],
      ['Verifications', String(identity.verificationCount)],
      ['Last application', appName(identity.lastApplicationId)],
    ]);
  }

  const users = pagedList(list, {
    path: () => '/v1/users',
    render: (rows) => table({
      caption: 'Users, newest first',
      columns: [
        { label: 'Phone number', cell: (u) => u.phoneNumber, nowrap: true },
        { label: 'First verified', cell: (u) => time(u.createdAt) },
        { label: 'Last verified', cell: (u) => time(u.lastVerifiedAt) },
        { label: 'Verifications', cell: (u) => String(u.verificationCount) },
        { label: 'Last application', cell: (u) => appName(u.lastApplicationId) },
      ],
      rows,
      empty: 'No users yet. A phone becomes a user the first time one of its codes is verified.',
    }),
  });
  await users.reload();
}
