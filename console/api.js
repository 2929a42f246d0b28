// Talks to the server's /v1 API and keeps the console's session.
// The ID token lives only in memory. The refresh token is kept in sessionStorage (this tab only,
// gone when the tab closes, never persistent storage) so a reload does not sign you out; it is rotated
// on every refresh exactly as the API does, and revoked on sign-out.
const REFRESH_KEY = 'cobinar.console.refreshToken';
const REFRESH_EARLY_SECONDS = 60;

let idToken = null;
let developer = null;
let refreshTimer = null;
let refreshInFlight = null;
const endListeners = new Set();

export class ApiError extends Error {
  constructor(status, envelope, retryAfter) {
    const error = (envelope && envelope.error) || {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || 'UNKNOWN';
    this.details = error.details || {};
    this.requestId = error.requestId || null;
    this.retryAfter = retryAfter ?? (this.details.retryAfter ?? null);
  }

  // Problems per body field ({ name: "must not be empty" }), empty when none are named.
  get fieldErrors() {
    if (this.details && typeof this.details.fields === 'object' && this.details.fields) return this.details.fields;
    if (this.details && typeof this.details.field === 'string') return { [this.details.field]: this.message };
    return {};
  }
}

function networkError() {
  return new ApiError(0, { error: { code: 'NETWORK', message: 'The server did not answer. Check that it is running and try again.' } });
}

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw networkError();
  }
  let envelope = null;
  const text = await response.text();
  if (text) {
    try { envelope = JSON.parse(text); } catch { envelope = null; }
  }
  if (!response.ok) {
    const retryAfter = response.headers.get('Retry-After');
    throw new ApiError(response.status, envelope, retryAfter === null ? null : Number(retryAfter));
  }
  return envelope;
}

function storeSession(data) {
  idToken = data.idToken;
  developer = data.developer;
  sessionStorage.setItem(REFRESH_KEY, data.refreshToken);
  clearTimeout(refreshTimer);
  const seconds = Math.max(10, Number(data.expiresIn || 3600) - REFRESH_EARLY_SECONDS);
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, seconds * 1000);
}

function forget() {
  idToken = null;
  developer = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
}

function endSession(reason) {
  const wasSignedIn = idToken !== null || sessionStorage.getItem(REFRESH_KEY) !== null;
  forget();
  if (wasSignedIn) for (const listener of endListeners) listener(reason);
}

// Trades the refresh token for a new pair; one refresh at a time however many calls need it.
function refresh() {
  if (!refreshInFlight) {
    refreshInFlight = (async () => {
      const refreshToken = sessionStorage.getItem(REFRESH_KEY);
      if (!refreshToken) throw new ApiError(401, { error: { code: 'UNAUTHENTICATED', message: 'Not signed in.' } });
      try {
        const envelope = await send('POST', '/v1/auth/refresh', { refreshToken });
        storeSession(envelope.data);
      } catch (error) {
        if (error.status === 401 || error.status === 403) endSession('Your session has ended. Sign in again.');
        throw error;
      }
    })().finally(() => { refreshInFlight = null; });
  }
  return refreshInFlight;
}

// An authenticated call. An ID token the server refuses is refreshed once, silently; when the
// session itself is gone (revoked, expired, account disabled) the console returns to sign-in.
async function call(method, path, body) {
  if (!idToken) await refresh();
  try {
    return await send(method, path, body, idToken);
  } catch (error) {
    if (error.status !== 401) throw error;
    await refresh();
    try {
      return await send(method, path, body, idToken);
    } catch (again) {
      if (again.status === 401) endSession('Your session has ended. Sign in again.');
      throw again;
    }
  }
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body = {}) => call('POST', path, body),
  patch: (path, body) => call('PATCH', path, body),
  put: (path, body) => call('PUT', path, body),
  delete: (path) => call('DELETE', path),
  // A call with an application's credentials instead of the session (the "send a test code" button).
  withAppCredentials: async (path, body, credentials) => {
    const headers = {
      'Content-Type': 'application/json',
      'x-client-id': credentials.clientId,
      'x-client-secret': credentials.clientSecret,
      'x-api-key': credentials.apiKey,
    };
    let response;
    try {
      response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    } catch {
      throw networkError();
    }
    const envelope = await response.json().catch(() => null);
    if (!response.ok) {
      const retryAfter = response.headers.get('Retry-After');
      throw new ApiError(response.status, envelope, retryAfter === null ? null : Number(retryAfter));
    }
    return envelope;
  },
};

// Builds "/v1/x?a=1&b=2" leaving out empty values.
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export const session = {
  get developer() { return developer; },
  set developer(value) { developer = value; },
  hasStoredSession: () => sessionStorage.getItem(REFRESH_KEY) !== null,
  async restore() {
    await refresh();
    return developer;
  },
  async signIn(email, password) {
    const envelope = await send('POST', '/v1/auth/login', { email, password });
    storeSession(envelope.data);
    return developer;
  },
  async signUp(fields) {
    const envelope = await send('POST', '/v1/auth/signup', fields);
    storeSession(envelope.data);
    return developer;
  },
  async signOut() {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    forget();
    if (refreshToken) {
      try { await send('POST', '/v1/auth/logout', { refreshToken }); } catch { /* the token is forgotten either way */ }
    }
  },
  onEnd(listener) { endListeners.add(listener); },
};
