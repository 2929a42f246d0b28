// The console's shell: sign-in, navigation, and the hash router (#/projects, #/applications/ID).
import { api, session } from './api.js';
import { h, replace, field, input, form, alertBox, button, showFormError, clearFormError, closeAllDialogs } from './ui.js';
import dashboard from './page-dashboard.js';
import projects from './page-projects.js';
import applications from './page-applications.js';
import otp from './page-otp.js';
import inbox from './page-inbox.js';
import webhooks from './page-webhooks.js';
import users from './page-users.js';
import phoneLookup from './page-phone.js';
import receiptKeys from './page-receipt-keys.js';
import logs from './page-logs.js';
import profile from './page-profile.js';

const pages = [
  ['dashboard', 'Dashboard', dashboard],
  ['projects', 'Projects', projects],
  ['applications', 'Applications', applications],
  ['otp', 'OTP requests', otp],
  ['inbox', 'Inbox', inbox],
  ['webhooks', 'Webhooks', webhooks],
  ['users', 'Users', users],
  ['phone-lookup', 'Phone lookup', phoneLookup],
  ['receipt-keys', 'Receipt keys', receiptKeys],
  ['logs', 'Logs', logs],
  ['profile', 'Profile', profile],
];

const root = document.getElementById('app');
let cleanup = null;
let shell = null;
let routeGeneration = 0;

function stopPage() {
  if (cleanup) {
    try { cleanup(); } catch { /* a page's timers are gone either way */ }
  }
  cleanup = null;
}

// --- signed out -------------------------------------------------------------------------------

function showSignIn(notice) {
  stopPage();
  shell = null;
  document.title = 'Sign in · Cobinar Phone';
  const container = h('main', { class: 'signin', id: 'main' });
  const email = input('email', { type: 'email', autocomplete: 'username', required: true });
  const password = input('password', { type: 'password', autocomplete: 'current-password', required: true });
  const credentials = () => ({ email: email.value.trim(), password: password.value });
  // One form, two ways in: "Sign in" (Enter) for an account that exists, "Sign up" to create
  // one with the same two fields when the server runs with --signup open.
  const signUp = button('Sign up', async () => {
    clearFormError(signInForm);
    signUp.disabled = true;
    try {
      await session.signUp(credentials());
      startApp();
    } catch (error) {
      if (error.status === 403 && error.code === 'FORBIDDEN') {
        error.message = 'Sign-up is closed on this server. Ask its operator for an account (cobinar-phone developer create), then sign in.';
      }
      showFormError(signInForm, error);
    } finally {
      signUp.disabled = false;
    }
  });
  const signInForm = form({
    fields: [field('Email', email), field('Password', password, 'New accounts: at least 10 characters.')],
    submitLabel: 'Sign in',
    action: async () => {
      const { email: address, password: secret } = credentials();
      await session.signIn(address, secret);
      startApp();
    },
  });
  signInForm.querySelector('.actions').append(signUp);
  replace(container,
    h('div', { class: 'signin-card' },
      h('p', { class: 'brand' }, 'Cobinar Phone'),
      h('h1', { tabindex: '-1', id: 'page-title' }, 'Sign in to the console'),
      notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
      signInForm,
      h('p', { class: 'hint switch' }, 'New here? Enter your email and a password, then choose Sign up (when this server allows sign-up). Name and company can be set later under Profile.')));
  replace(root, container);
  email.focus();
}

// --- signed in --------------------------------------------------------------------------------

function buildShell() {
  const links = pages.map(([id, label]) => h('li', {}, h('a', { href: `#/${id}`, 'data-page': id }, label)));
  const who = h('span', { class: 'who' }, session.developer ? session.developer.email : '');
  const main = h('main', { id: 'main', tabindex: '-1' });
  const element = h('div', { class: 'shell' },
    h('a', { class: 'skip', href: '#main', onclick: (event) => { event.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '#/dashboard' }, 'Cobinar Phone'),
      h('div', { class: 'account' }, who,
        button('Sign out', async () => {
          await session.signOut();
          showSignIn('You are signed out.');
        }))),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, links)),
    main);
  replace(root, element);
  return { element, main, who };
}

function currentRoute() {
  const parts = location.hash.split('?')[0].replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [id = 'dashboard', ...rest] = parts;
  const page = pages.find(([pageId]) => pageId === id) || pages[0];
  return { page, params: rest };
}

async function renderRoute() {
  if (!shell) return;
  stopPage();
  const { page: [id, label, module], params } = currentRoute();
  for (const link of shell.element.querySelectorAll('nav a')) {
    if (link.dataset.page === id) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${label} · Cobinar Phone`;
  const container = h('div', { class: 'page' });
  replace(shell.main, container);
  const focusedAtStart = document.activeElement;
  const generation = ++routeGeneration;
  try {
    const result = await module({ container, params, navigate, refreshWho });
    if (typeof result === 'function') cleanup = result;
  } catch (error) {
    if (session.developer) replace(container, h('h1', { tabindex: '-1', id: 'page-title' }, label), alertBox(error));
  }
  // Announce the new page by focusing its title, unless the user moved on meanwhile (focus went
  // elsewhere, or another page was opened while this one loaded).
  const title = document.getElementById('page-title');
  const untouched = document.activeElement === focusedAtStart || document.activeElement === document.body;
  if (generation === routeGeneration && untouched && title && !document.querySelector('dialog[open]') && root.contains(title)) {
    title.focus({ preventScroll: true });
  }
}

function navigate(hash) {
  if (location.hash === hash) renderRoute();
  else location.hash = hash;
}

function refreshWho() {
  if (shell && session.developer) shell.who.textContent = session.developer.email;
}

async function startApp() {
  if (!session.developer) {
    try {
      session.developer = (await api.get('/v1/developer/me')).data;
    } catch {
      showSignIn();
      return;
    }
  }
  shell = buildShell();
  if (!location.hash || location.hash === '#' || location.hash === '#main') history.replaceState(null, '', '#/dashboard');
  await renderRoute();
}

session.onEnd((reason) => {
  closeAllDialogs();
  showSignIn(reason);
});

window.addEventListener('hashchange', () => { if (location.hash !== '#main') renderRoute(); });

(async () => {
  if (session.hasStoredSession()) {
    try {
      await session.restore();
      await startApp();
      return;
    } catch {
      // fall through to sign-in
    }
  }
  showSignIn();
})();
