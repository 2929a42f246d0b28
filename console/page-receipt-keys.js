// Receipt keys: the server-wide key ring that signs verification receipts (GET /v1/receipt-keys),
// read-only; operators change it with `cobinar-phone receipt-keys`. The public keys are at
// /.well-known/jwks.json.
import { api } from './api.js';
import { h, replace, table, pageHeader, button, time, details, statusBadge, alertBox } from './ui.js';

const STATES = [
  ['next', 'published, and signs from its start time on (after a rotation)'],
  ['signing', 'signs new receipts now'],
  ['retiring', 'signs no more; still published until the receipts it signed have expired'],
  ['retired', 'no longer published (a leaked key, or its receipts have all expired)'],
];

export default async function receiptKeys({ container }) {
  const list = h('div');
  const refresh = button('Refresh', () => load());
  replace(container,
    pageHeader('Receipt keys', refresh),
    h('p', { class: 'lede' },
      'The keys this server signs verification receipts with, the same for every developer. Your backend checks a receipt\'s signature with the public keys at ',
      h('a', { href: '/.well-known/jwks.json' }, '/.well-known/jwks.json'),
      ', chosen by the kid in the receipt\'s header.'),
    list,
    h('section', { class: 'panel', 'aria-labelledby': 'key-states-title' },
      h('h2', { id: 'key-states-title' }, 'States'),
      details(STATES.map(([state, meaning]) => [statusBadge(state), meaning])),
      h('p', { class: 'hint' },
        'This list is read-only. The server\'s operator rotates and retires keys with ',
        h('code', {}, 'cobinar-phone receipt-keys rotate'), ' and ',
        h('code', {}, 'cobinar-phone receipt-keys retire --kid KID'),
        '; every server follows within 5 seconds.')));

  async function load() {
    try {
      const keys = (await api.get('/v1/receipt-keys')).data;
      replace(list, table({
        caption: 'Receipt keys, newest first',
        columns: [
          { label: 'Key ID (kid)', cell: (k) => h('code', {}, k.kid) },
          { label: 'State', cell: (k) => statusBadge(k.state) },
          { label: 'Created', cell: (k) => time(k.createdAt) },
        ],
        rows: keys,
        empty: 'No receipt keys yet. The server makes one before it signs its first receipt.',
      }));
    } catch (error) {
      replace(list, alertBox(error));
    }
  }
  await load();
}
