'use strict';
// The benchmark's peer: a reference implementation of cobinar-phone's OTP send/verify flow
// (SPEC §7) in Node, written for bench/run.sh so that our numbers have something to be
// measured against on the same machine, in the same run. Not a product: only the two app-auth
// endpoints and GET /v1/health.
//
//   node bench/peer/server.js --db FILE --port N [--workers 2] [--credentials FILE] [--ttl 300]
//
// The primary process creates the schema, the server key (<db>.key) and one developer with one
// *test* application, writes that application's credentials as JSON to --credentials, then
// forks --workers processes (node:cluster, default one per core) that serve the same port.
// Storage: better-sqlite3, WAL, synchronous=NORMAL, busy timeout 5 s, each request's writes in
// one IMMEDIATE transaction, answered after the commit.
//
// The work per request is the work the contract asks for, done honestly:
//   app auth   API key looked up by its keyed hash (HMAC-SHA256 with the server key) on every
//              request, the client id must be the key's application's, the client secret is
//              compared against its salted keyed hash in constant time; disabled app -> 403.
//   send       phone normalised to E.164 (spaces, dashes, dots, parentheses; 8-15 digits; no
//              leading 0) and shown grouped (+999 482 918 102); a 6-digit code from the CSPRNG
//              (crypto.randomInt: uniform), stored only as HMAC(server key, requestId:code);
//              TTL; earlier pending requests of the same app and phone superseded (failed,
//              reason superseded); an inbox message (test apps deliver to the inbox), an
//              otp.created event row and the day's analytics counter; 201 with testCode.
//   verify     constant-time compare; at most 5 attempts (the 5th wrong code fails the
//              request); expired past the TTL; the identity created or updated; an event row
//              (otp.verified / otp.failed / otp.expired) and the day's counter; 200 verified, or
//              the contract's error codes (400 INVALID_CODE with attemptsRemaining, 404, 409,
//              410 OTP_FAILED / OTP_EXPIRED).
// Not done (the bench runs cobinar-phone with them out of the way too): rate limits, the SMS
// delivery queue for live apps, webhooks.
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const dbPath = option('db', 'peer.sqlite');
const port = Number(option('port', '8090'));
const workers = Number(option('workers', String(os.availableParallelism ? os.availableParallelism() : os.cpus().length)));
const ttlSeconds = Number(option('ttl', '300'));
const maxAttempts = 5;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS developers(id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applications(
  id TEXT PRIMARY KEY, developer_id TEXT NOT NULL, name TEXT NOT NULL, environment TEXT NOT NULL,
  status TEXT NOT NULL, client_id TEXT NOT NULL UNIQUE, client_secret_salt BLOB NOT NULL,
  client_secret_hash BLOB NOT NULL, api_key_hash BLOB NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS otp_requests(
  id TEXT PRIMARY KEY, app_id TEXT NOT NULL, developer_id TEXT NOT NULL, phone TEXT NOT NULL,
  status TEXT NOT NULL, failure_reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, code_hash BLOB,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL, verified_at TEXT, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS otp_pending_by_phone ON otp_requests(app_id, phone) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS otp_by_developer ON otp_requests(developer_id, created_at);
CREATE TABLE IF NOT EXISTS inbox_messages(
  id TEXT PRIMARY KEY, request_id TEXT NOT NULL, app_id TEXT NOT NULL, developer_id TEXT NOT NULL,
  phone TEXT NOT NULL, message TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS inbox_by_developer ON inbox_messages(developer_id, created_at);
CREATE TABLE IF NOT EXISTS events(
  id TEXT PRIMARY KEY, type TEXT NOT NULL, developer_id TEXT NOT NULL, app_id TEXT NOT NULL,
  request_id TEXT NOT NULL, phone TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_developer ON events(developer_id, created_at);
CREATE TABLE IF NOT EXISTS identities(
  developer_id TEXT NOT NULL, phone TEXT NOT NULL, id TEXT NOT NULL, created_at TEXT NOT NULL,
  last_verified_at TEXT NOT NULL, verification_count INTEGER NOT NULL, last_application_id TEXT NOT NULL,
  PRIMARY KEY(developer_id, phone)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily_stats(
  app_id TEXT NOT NULL, developer_id TEXT NOT NULL, day TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0,
  verified INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(app_id, day)) WITHOUT ROWID;
`;

function openDatabase() {
  const Database = require('better-sqlite3');
  const db = new Database(dbPath, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

function serverKey() {
  const file = `${dbPath}.key`;
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(32), { mode: 0o600, flag: 'wx' });
  return fs.readFileSync(file);
}

// Time-ordered ids (UUIDv7): 48-bit milliseconds, then random bits.
function newId() {
  const b = crypto.randomBytes(16);
  const ms = Date.now();
  b.writeUIntBE(ms, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const keyedHash = (key, ...parts) => {
  const mac = crypto.createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

// E.164: a leading +, then 8-15 digits, country code not starting with 0; spaces, dashes, dots
// and parentheses are allowed in the input.
function normalizePhone(input) {
  if (typeof input !== 'string') return null;
  let digits = '';
  let plus = false;
  for (const c of input) {
    if (c === '+' && digits === '' && !plus) plus = true;
    else if (c >= '0' && c <= '9') digits += c;
    else if (c !== ' ' && c !== '-' && c !== '.' && c !== '(' && c !== ')') return null;
  }
  if (!plus || digits.length < 8 || digits.length > 15 || digits[0] === '0') return null;
  return `+${digits}`;
}

// Length of the ITU country calling code (the same table as core/phone.cpp).
function countryCodeLength(d) {
  const a = d[0];
  const b = d.length > 1 ? d[1] : '0';
  switch (a) {
    case '1': case '7': return 1;
    case '2': return b === '0' || b === '7' ? 2 : 3;
    case '3': return b === '5' || b === '7' || b === '8' ? 3 : 2;
    case '4': return b === '2' ? 3 : 2;
    case '5': return b === '0' || b === '9' ? 3 : 2;
    case '6': return b >= '7' ? 3 : 2;
    case '8': return b === '1' || b === '2' || b === '4' || b === '6' ? 2 : 3;
    case '9': return b === '6' || b === '7' || b === '9' ? 3 : 2;
    default: return 3;
  }
}

function displayPhone(e164) {
  const digits = e164.slice(1);
  const cc = countryCodeLength(digits);
  let out = `+${digits.slice(0, cc)}`;
  for (let i = cc; i < digits.length; i += 3) out += ` ${digits.slice(i, i + 3)}`;
  return out;
}

function primary() {
  const db = openDatabase();
  db.exec(SCHEMA);
  const key = serverKey();
  const now = new Date().toISOString();
  const developerId = newId();
  db.prepare('INSERT INTO developers(id, email, created_at) VALUES(?, ?, ?)').run(developerId, `bench-${developerId}@example.com`, now);
  const clientId = `ph_test_client_${crypto.randomBytes(24).toString('hex')}`;
  const clientSecret = `ph_test_secret_${crypto.randomBytes(24).toString('hex')}`;
  const apiKey = `ph_test_api_${crypto.randomBytes(24).toString('hex')}`;
  const salt = crypto.randomBytes(16);
  db.prepare(`INSERT INTO applications(id, developer_id, name, environment, status, client_id, client_secret_salt,
      client_secret_hash, api_key_hash, created_at) VALUES(?, ?, ?, 'test', 'active', ?, ?, ?, ?, ?)`)
    .run(newId(), developerId, 'bench', clientId, salt, keyedHash(key, 'client-secret:', salt, clientSecret),
      keyedHash(key, 'api-key:', apiKey), now);
  db.close();
  const credentials = JSON.stringify({ clientId, clientSecret, apiKey });
  const file = option('credentials');
  if (file) fs.writeFileSync(file, credentials, { mode: 0o600 });
  else process.stdout.write(`${credentials}\n`);
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`peer: worker ${worker.process.pid} exited (${signal || code})`);
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.kill();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function worker() {
  const db = openDatabase();
  const key = serverKey();
  const fastify = require('fastify')({ logger: false, bodyLimit: 64 * 1024 });

  const q = {
    appByKey: db.prepare('SELECT id, developer_id, name, environment, status, client_id, client_secret_salt, client_secret_hash FROM applications WHERE api_key_hash = ?'),
    supersede: db.prepare("UPDATE otp_requests SET status = 'failed', failure_reason = 'superseded', code_hash = NULL, updated_at = ? WHERE app_id = ? AND phone = ? AND status = 'pending' RETURNING id, attempts"),
    insertRequest: db.prepare(`INSERT INTO otp_requests(id, app_id, developer_id, phone, status, attempts, code_hash, created_at, expires_at, updated_at)
      VALUES(?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`),
    insertInbox: db.prepare('INSERT INTO inbox_messages(id, request_id, app_id, developer_id, phone, message, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)'),
    insertEvent: db.prepare('INSERT INTO events(id, type, developer_id, app_id, request_id, phone, status, payload, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    countSent: db.prepare('INSERT INTO daily_stats(app_id, developer_id, day, sent) VALUES(?, ?, ?, 1) ON CONFLICT(app_id, day) DO UPDATE SET sent = sent + 1'),
    countVerified: db.prepare('INSERT INTO daily_stats(app_id, developer_id, day, verified) VALUES(?, ?, ?, 1) ON CONFLICT(app_id, day) DO UPDATE SET verified = verified + 1'),
    countFailed: db.prepare('INSERT INTO daily_stats(app_id, developer_id, day, failed) VALUES(?, ?, ?, 1) ON CONFLICT(app_id, day) DO UPDATE SET failed = failed + 1'),
    request: db.prepare('SELECT id, phone, status, attempts, code_hash, expires_at FROM otp_requests WHERE id = ? AND app_id = ?'),
    markVerified: db.prepare("UPDATE otp_requests SET status = 'verified', verified_at = ?, code_hash = NULL, attempts = attempts + 1, updated_at = ? WHERE id = ?"),
    markWrong: db.prepare('UPDATE otp_requests SET attempts = ?, status = ?, failure_reason = ?, code_hash = CASE WHEN ? THEN NULL ELSE code_hash END, updated_at = ? WHERE id = ?'),
    markExpired: db.prepare("UPDATE otp_requests SET status = 'expired', code_hash = NULL, updated_at = ? WHERE id = ?"),
    upsertIdentity: db.prepare(`INSERT INTO identities(developer_id, phone, id, created_at, last_verified_at, verification_count, last_application_id)
      VALUES(?, ?, ?, ?, ?, 1, ?) ON CONFLICT(developer_id, phone) DO UPDATE SET last_verified_at = excluded.last_verified_at,
      verification_count = verification_count + 1, last_application_id = excluded.last_application_id`),
  };

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }
  const fail = (status, code, message, details) => { throw new ApiError(status, code, message, details); };

  function authenticate(request) {
    const apiKey = request.headers['x-api-key'];
    const clientId = request.headers['x-client-id'];
    const clientSecret = request.headers['x-client-secret'];
    if (typeof apiKey !== 'string' || typeof clientId !== 'string' || typeof clientSecret !== 'string') {
      fail(401, 'UNAUTHENTICATED', 'x-client-id, x-client-secret and x-api-key are required');
    }
    const app = q.appByKey.get(keyedHash(key, 'api-key:', apiKey));
    if (!app || app.client_id !== clientId) fail(401, 'UNAUTHENTICATED', 'invalid application credentials');
    const given = keyedHash(key, 'client-secret:', app.client_secret_salt, clientSecret);
    if (!crypto.timingSafeEqual(given, app.client_secret_hash)) fail(401, 'UNAUTHENTICATED', 'invalid application credentials');
    if (app.status !== 'active') fail(403, 'FORBIDDEN', 'the application is disabled');
    return app;
  }

  const event = (type, app, requestId, phone, status, payload, at) =>
    q.insertEvent.run(newId(), type, app.developer_id, app.id, requestId, phone, status,
      JSON.stringify({ requestId, appId: app.id, phone: displayPhone(phone), ...payload }), at);

  const sendTx = db.transaction((app, id, phone, codeHash, message, now, expiresAt) => {
    for (const earlier of q.supersede.all(now, app.id, phone)) {
      event('otp.failed', app, earlier.id, phone, 'failed', { reason: 'superseded', attemptsRemaining: maxAttempts - earlier.attempts }, now);
    }
    q.insertRequest.run(id, app.id, app.developer_id, phone, codeHash, now, expiresAt, now);
    q.insertInbox.run(newId(), id, app.id, app.developer_id, phone, message, now);
    event('otp.created', app, id, phone, 'pending', { expiresAt }, now);
    q.countSent.run(app.id, app.developer_id, now.slice(0, 10));
  });

  const verifyTx = db.transaction((app, requestId, code) => {
    const row = q.request.get(requestId, app.id);
    if (!row) return { error: [404, 'NOT_FOUND', 'no such OTP request'] };
    if (row.status === 'verified') return { error: [409, 'OTP_ALREADY_VERIFIED', 'the request is already verified'] };
    if (row.status === 'failed') return { error: [410, 'OTP_FAILED', 'the request has failed'] };
    if (row.status === 'expired') return { error: [410, 'OTP_EXPIRED', 'the code has expired'] };
    const nowDate = new Date();
    const now = nowDate.toISOString();
    const day = now.slice(0, 10);
    if (nowDate.getTime() >= Date.parse(row.expires_at)) {
      q.markExpired.run(now, requestId);
      event('otp.expired', app, requestId, row.phone, 'expired', { expiredAt: now }, now);
      return { error: [410, 'OTP_EXPIRED', 'the code has expired'] };
    }
    const given = keyedHash(key, requestId, ':', code);
    if (crypto.timingSafeEqual(given, row.code_hash)) {
      q.markVerified.run(now, now, requestId);
      q.upsertIdentity.run(app.developer_id, row.phone, newId(), now, now, app.id);
      event('otp.verified', app, requestId, row.phone, 'verified', { verifiedAt: now }, now);
      q.countVerified.run(app.id, app.developer_id, day);
      return { data: { requestId, status: 'verified', phone: displayPhone(row.phone), verifiedAt: now } };
    }
    const attempts = row.attempts + 1;
    const exhausted = attempts >= maxAttempts;
    q.markWrong.run(attempts, exhausted ? 'failed' : 'pending', exhausted ? 'max_attempts' : null, exhausted ? 1 : 0, now, requestId);
    const remaining = maxAttempts - attempts;
    event('otp.failed', app, requestId, row.phone, exhausted ? 'failed' : 'pending', { reason: 'invalid_code', attemptsRemaining: remaining }, now);
    q.countFailed.run(app.id, app.developer_id, day);
    if (exhausted) event('otp.failed', app, requestId, row.phone, 'failed', { reason: 'max_attempts', attemptsRemaining: 0 }, now);
    return { error: [400, 'INVALID_CODE', 'the code is not right', { attemptsRemaining: remaining }] };
  });

  fastify.setErrorHandler((error, request, reply) => {
    if (error instanceof ApiError) {
      const body = { error: { code: error.code, message: error.message } };
      if (error.details) body.error.details = error.details;
      return reply.code(error.status).send(body);
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: 'INVALID_ARGUMENT', message: error.message } });
    }
    console.error(error);
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  fastify.get('/v1/health', async () => ({
    data: { status: 'operational', service: 'cobinar-bench-peer', time: new Date().toISOString(), version: '1' },
  }));

  fastify.post('/v1/otp/send', async (request, reply) => {
    const app = authenticate(request);
    const body = request.body;
    const phone = normalizePhone(body && body.phone);
    if (!phone) fail(400, 'INVALID_ARGUMENT', 'phone must be an E.164 number', { field: 'phone' });
    const code = String(crypto.randomInt(0, 1000000)).padStart(6, '0');
    const id = newId();
    const nowDate = new Date();
    const now = nowDate.toISOString();
    const expiresAt = new Date(nowDate.getTime() + ttlSeconds * 1000).toISOString();
    const message = `${code} is your ${app.name} verification code. It expires in ${Math.round(ttlSeconds / 60)} minutes.`;
    sendTx.immediate(app, id, phone, keyedHash(key, id, ':', code), message, now, expiresAt);
    const data = { requestId: id, phone: displayPhone(phone), status: 'pending', expiresAt };
    if (app.environment === 'test') data.testCode = code;
    return reply.code(201).send({ data });
  });

  fastify.post('/v1/otp/verify', async (request) => {
    const app = authenticate(request);
    const body = request.body || {};
    if (typeof body.requestId !== 'string' || body.requestId === '') fail(400, 'INVALID_ARGUMENT', 'requestId is required', { field: 'requestId' });
    if (typeof body.code !== 'string' || !/^[0-9]{6}$/.test(body.code)) fail(400, 'INVALID_ARGUMENT', 'code must be 6 digits', { field: 'code' });
    const result = verifyTx.immediate(app, body.requestId, body.code);
    if (result.error) fail(...result.error);
    return { data: result.data };
  });

  fastify.listen({ port, host: '127.0.0.1' }).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

if (cluster.isPrimary) primary();
else worker();
