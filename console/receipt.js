// A verification receipt (SPEC §16): the compact JWS a 200 verify answer carries, decoded for
// reading. The browser does not check the signature: your backend does, with the public keys
// at /.well-known/jwks.json (see the README, "Receipts").
import { h, details, time, secretValue, uniqueId } from './ui.js';

// base64url (no padding) → the JSON object it encodes; throws on anything else.
function decodePart(part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
  return value;
}

// { header, claims } of a compact JWS, or null when it is not one.
export function decodeReceipt(jws) {
  const parts = typeof jws === 'string' ? jws.split('.') : [];
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return null;
  try {
    return { header: decodePart(parts[0]), claims: decodePart(parts[1]) };
  } catch {
    return null;
  }
}

const HEADER_NOTES = {
  alg: 'signature algorithm',
  kid: 'the key that signed it (see Receipt keys)',
  typ: 'what this token is: check it',
};

const CLAIM_NOTES = {
  iss: 'issuer: this server',
  aud: 'audience: this application\'s client ID',
  sub: 'subject: the phone, E.164',
  phone_number: 'the verified phone, E.164',
  phone_number_verified: 'always true',
  amr: 'how: a one-time code sent by SMS',
  auth_time: 'when the code was verified',
  iat: 'issued at',
  exp: 'expires at',
  jti: 'the OTP request ID',
  app_id: 'the application\'s ID',
  nonce: 'the nonce the send carried',
};

const TIME_CLAIMS = new Set(['auth_time', 'iat', 'exp']);

function valueNode(key, value) {
  if (TIME_CLAIMS.has(key) && Number.isFinite(value)) {
    return [h('code', {}, String(value)), ' (', time(new Date(value * 1000).toISOString()), ')'];
  }
  return h('code', {}, typeof value === 'string' ? value : JSON.stringify(value));
}

function pairs(object, notes) {
  return Object.entries(object).map(([key, value]) => [
    h('code', {}, key),
    [valueNode(key, value), notes[key] ? h('span', { class: 'claim-note' }, ` — ${notes[key]}`) : null],
  ]);
}

// The receipt of a verify answer: when it expires, its header and claims, and the token itself
// (to paste into your backend's check).
export function receiptView(verified) {
  const titleId = uniqueId('receipt-title');
  const decoded = decodeReceipt(verified.receipt);
  const headerId = uniqueId('receipt-header');
  const claimsId = uniqueId('receipt-claims');
  return h('section', { class: 'receipt', 'aria-labelledby': titleId },
    h('h4', { id: titleId }, 'Signed receipt'),
    h('p', {}, 'Your backend checks it offline with the keys at ',
      // A new tab: leaving would lose what the credentials dialog shows only once.
      h('a', { href: '/.well-known/jwks.json', target: '_blank', rel: 'noopener noreferrer' },
        '/.well-known/jwks.json', h('span', { class: 'sr-only' }, ' (opens in a new tab)')),
      ': the signature, typ, iss, aud (your client ID) and exp. It expires ', time(verified.receiptExpiresAt), '.'),
    decoded
      ? [
        h('h5', { id: headerId }, 'Header'),
        h('div', { role: 'group', 'aria-labelledby': headerId }, details(pairs(decoded.header, HEADER_NOTES))),
        h('h5', { id: claimsId }, 'Claims'),
        h('div', { role: 'group', 'aria-labelledby': claimsId }, details(pairs(decoded.claims, CLAIM_NOTES))),
      ]
      : h('p', { class: 'alert' }, 'The receipt is not a compact JWS this console can read.'),
    secretValue('Receipt (JWS)', verified.receipt));
}
