// An application's OTP policy (GET/PUT /v1/applications/:id/policy): the codes' length and
// alphabet, TTL, attempts, the message templates per locale, how phone numbers are read, and the
// abuse controls (countries, number types, daily send limit, safe list, conversion breaker).
// Save sends the whole policy (fields this form does not show are sent back as they came), each
// refused field's problem is shown next to it, and the server's preview of every template
// (encoding, characters, SMS segments) is refreshed from its answer. Simulate replays the
// application's recent sends against the policy as edited (unsaved) and shows what it would have
// refused (POST …/policy/simulate).
import { api, ApiError } from './api.js';
import {
  h, replace, field, input, select, form, table, button, uniqueId, alertBox, details, time,
  showFormError, clearFormError,
} from './ui.js';

const ALPHABETS = [
  ['digits', 'digits (0–9)'],
  ['alphanumeric', 'alphanumeric (A–Z, 2–9)'],
];

const VALIDATION = [
  ['valid', 'valid'],
  ['possible', 'possible'],
  ['off', 'off'],
];

// The number types of §14, as the abuse controls name them.
const NUMBER_TYPES = [
  'mobile', 'fixed_line', 'fixed_line_or_mobile', 'toll_free', 'premium_rate', 'shared_cost', 'voip',
  'personal_number', 'pager', 'uan', 'voicemail', 'unknown', 'virtual',
];

// The breaker's numbers: [field, label, min, max, step, hint].
const BREAKER_FIELDS = [
  ['prefixLength', 'Prefix length (digits)', 2, 15, 1, '2 to 15: the first digits after + that make a destination prefix.'],
  ['windowSeconds', 'Window (seconds)', 60, 86400, 1, '60 to 86400: how far back the sends to a prefix are counted.'],
  ['minSends', 'Minimum sends', 1, 100000, 1, '1 to 100000: the sends to a prefix in the window before it is judged.'],
  ['minConversion', 'Minimum conversion', 0, 1, 0.01, '0 to 1: the share of those sends that must be verified (0.2 = 20%).'],
  ['blockSeconds', 'Block for (seconds)', 60, 604800, 1, '60 to 604800: how long a prefix under the minimum stays blocked.'],
];

// The rules of a refusal, in the order the server applies them.
const RULES = [
  ['country', 'Refused by country'],
  ['number_type', 'Refused by number type'],
  ['conversion_breaker', 'Refused by the conversion breaker'],
  ['daily_budget', 'Refused by the daily send limit'],
];

// "gb, IE fr" → ["GB", "IE", "FR"]; "+44 7400, +1 (555)" → ["+447400", "+1555"].
const codes = (text) => text.split(/[\s,;]+/).map((code) => code.trim().toUpperCase()).filter(Boolean);
const numbers = (text) => text.split(/[\n,;]+/).map((entry) => entry.replace(/[\s().-]/g, '')).filter(Boolean);

// A group of checkboxes, one per number type, named (as a whole) by the policy field.
function numberTypeGroup(name, legend, hint) {
  const id = uniqueId(name);
  const boxes = new Map();
  const element = h('fieldset', { class: 'number-types', name, 'aria-describedby': `${id}-hint ${id}-error` },
    h('legend', {}, legend),
    h('p', { class: 'hint', id: `${id}-hint` }, hint),
    h('div', { class: 'checks' }, NUMBER_TYPES.map((type) => {
      const boxId = uniqueId('type');
      const box = h('input', { type: 'checkbox', id: boxId, value: type });
      boxes.set(type, box);
      return h('div', { class: 'check' }, box, h('label', { for: boxId }, type));
    })),
    h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': name }));
  return {
    element,
    get: () => NUMBER_TYPES.filter((type) => boxes.get(type).checked),
    set: (list) => { for (const [type, box] of boxes) box.checked = (list || []).includes(type); },
  };
}

// The section, built once per application page: the page may redraw around it (after a rename,
// say) without losing what is being edited here. `app` (optional) is the application: a test
// application is told that the abuse controls and their simulation do not apply to it.
export async function policySection(appPath, app = null) {
  const path = `${appPath}/policy`;
  const section = h('section', { class: 'panel policy', 'aria-labelledby': 'policy-title' },
    h('h2', { id: 'policy-title' }, 'Policy'));
  let policy;
  try {
    policy = (await api.get(path)).data;
  } catch (error) {
    section.append(alertBox(error));
    return section;
  }

  const controls = {
    codeLength: input('codeLength', { type: 'number', min: 4, max: 10, step: 1, inputmode: 'numeric' }),
    codeAlphabet: select('codeAlphabet', ALPHABETS),
    ttlSeconds: input('ttlSeconds', { type: 'number', min: 30, max: 3600, step: 1, inputmode: 'numeric' }),
    maxAttempts: input('maxAttempts', { type: 'number', min: 1, max: 10, step: 1, inputmode: 'numeric' }),
    defaultLocale: input('defaultLocale', { maxlength: 35, spellcheck: 'false', autocapitalize: 'off' }),
    defaultRegion: input('defaultRegion', { maxlength: 2, size: 4, spellcheck: 'false', autocapitalize: 'characters' }),
    numberValidation: select('numberValidation', VALIDATION),
  };
  const rows = h('div', { class: 'template-rows' });
  const templatesHintId = uniqueId('templates-hint');
  const templatesErrorId = uniqueId('templates-error');
  const addTemplate = button('Add template', () => {
    const row = templateRow('', '');
    rows.append(row.element);
    renumber();
    row.locale.focus();
  });
  const previews = h('div', { class: 'template-previews' });
  const saved = h('p', { role: 'status', class: 'saved' });

  // The abuse controls (SPEC §17).
  const abuse = {
    allowedCountries: input('allowedCountries', { spellcheck: 'false', autocapitalize: 'characters', placeholder: 'all' }),
    blockedCountries: input('blockedCountries', { spellcheck: 'false', autocapitalize: 'characters' }),
    dailySendLimit: input('dailySendLimit', { type: 'number', min: 1, max: 1000000000, step: 1, inputmode: 'numeric', placeholder: 'no limit' }),
    safeList: h('textarea', { name: 'safeList', rows: '3', spellcheck: 'false', autocomplete: 'off' }),
    allowedNumberTypes: numberTypeGroup('allowedNumberTypes', 'Allowed number types',
      'None checked: every type is allowed. Checked: only those. Most US and CA numbers are fixed_line_or_mobile, which mobile or fixed_line also covers.'),
    blockedNumberTypes: numberTypeGroup('blockedNumberTypes', 'Blocked number types',
      'Sends to these types are refused. premium_rate and shared_cost are where toll fraud pays.'),
    breakerEnabled: h('input', { type: 'checkbox', name: 'conversionBreaker.enabled' }),
    breaker: Object.fromEntries(BREAKER_FIELDS.map(([name, , min, max, step]) => [name,
      input(`conversionBreaker.${name}`, { type: 'number', min, max, step, inputmode: step < 1 ? 'decimal' : 'numeric' })])),
  };
  const breakerEnabledId = uniqueId('breaker-enabled');
  abuse.breakerEnabled.id = breakerEnabledId;
  const days = input('days', { type: 'number', min: 1, max: 90, step: 1, inputmode: 'numeric', value: '7' });
  const simulation = h('div', { class: 'simulation' });
  const simulate = button('Simulate', () => runSimulation());
  // Enter in Days simulates (rather than saving the policy).
  days.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') { event.preventDefault(); runSimulation(); }
  });

  // One template: its locale and text, and Remove. The text's name follows the locale
  // ("templates.de"), so the server's error for that template lands next to it.
  function templateRow(locale, text) {
    const rowId = uniqueId('template');
    const legend = h('legend', {}, 'Template');
    const localeInput = input(`${rowId}-locale`, { value: locale, maxlength: 35, spellcheck: 'false', autocapitalize: 'off', class: 'locale' });
    const textInput = h('textarea', { name: `${rowId}-text`, rows: '3', spellcheck: 'false', value: text });
    const textField = field('Template', textInput);
    const element = h('fieldset', { class: 'template-row' },
      legend,
      field('Locale', localeInput),
      textField,
      button('Remove', () => {
        const next = element.nextElementSibling || element.previousElementSibling;
        element.remove();
        renumber();
        const target = next ? next.querySelector('input') : addTemplate;
        target.focus();
      }, { class: 'remove' }));
    const row = { element, legend, locale: localeInput, text: textInput, textError: textField.querySelector('.field-error') };
    element.row = row;
    return row;
  }

  function templateRows() {
    return [...rows.children].map((element) => element.row);
  }

  // "Template 1", "Template 2", …: each row's group has its own name.
  function renumber() {
    templateRows().forEach((row, index) => { row.legend.textContent = `Template ${index + 1}`; });
  }

  function fill(from) {
    for (const [name, control] of Object.entries(controls)) control.value = from[name] ?? '';
    controls.codeAlphabet.value = from.codeAlphabet || 'digits';
    controls.numberValidation.value = from.numberValidation || 'valid';
    // The default locale's template first, then the others as the server lists them.
    const isDefault = ([locale]) => locale.toLowerCase() === String(from.defaultLocale || '').toLowerCase();
    const templates = Object.entries(from.templates || {}).sort((a, b) => Number(isDefault(b)) - Number(isDefault(a)));
    replace(rows, templates.map(([locale, text]) => templateRow(locale, text).element));
    renumber();
    replace(previews, previewTable(from.templatePreview));
    fillAbuse(from);
  }

  function fillAbuse(from) {
    abuse.allowedCountries.value = (from.allowedCountries || []).join(', ');
    abuse.blockedCountries.value = (from.blockedCountries || []).join(', ');
    abuse.dailySendLimit.value = from.dailySendLimit ?? '';
    abuse.safeList.value = (from.safeList || []).join('\n');
    abuse.allowedNumberTypes.set(from.allowedNumberTypes);
    abuse.blockedNumberTypes.set(from.blockedNumberTypes);
    const breaker = from.conversionBreaker || {};
    abuse.breakerEnabled.checked = breaker.enabled !== false;
    for (const [name] of BREAKER_FIELDS) abuse.breaker[name].value = breaker[name] ?? '';
  }

  // The abuse fields of the policy to send. Empty country and number-type allow lists mean
  // "all" (null); an empty limit means none; an empty breaker number takes its default.
  function collectAbuse(body) {
    const number = (control) => (control.value.trim() === '' ? null : Number(control.value));
    const allowed = codes(abuse.allowedCountries.value);
    body.allowedCountries = allowed.length ? allowed : null;
    body.blockedCountries = codes(abuse.blockedCountries.value);
    const allowedTypes = abuse.allowedNumberTypes.get();
    body.allowedNumberTypes = allowedTypes.length ? allowedTypes : null;
    body.blockedNumberTypes = abuse.blockedNumberTypes.get();
    body.dailySendLimit = number(abuse.dailySendLimit);
    body.safeList = numbers(abuse.safeList.value);
    body.conversionBreaker = { enabled: abuse.breakerEnabled.checked };
    for (const [name] of BREAKER_FIELDS) {
      const value = number(abuse.breaker[name]);
      if (value !== null) body.conversionBreaker[name] = value;
    }
  }

  // The policy to PUT: what the server sent (so fields not shown here stay as they are) with
  // this form's values over it. Blank template rows are left out; a row without a locale, or
  // two rows for one locale, are refused here.
  function collect() {
    const { templatePreview, ...body } = policy;
    const number = (control) => (control.value.trim() === '' ? null : Number(control.value));
    body.codeLength = number(controls.codeLength);
    body.codeAlphabet = controls.codeAlphabet.value;
    body.ttlSeconds = number(controls.ttlSeconds);
    body.maxAttempts = number(controls.maxAttempts);
    body.defaultLocale = controls.defaultLocale.value.trim();
    body.defaultRegion = controls.defaultRegion.value.trim().toUpperCase() || null;
    body.numberValidation = controls.numberValidation.value;
    body.templates = {};
    const problems = {};
    const seen = new Set();
    for (const row of templateRows()) {
      const locale = row.locale.value.trim();
      // The server names a template's problem "templates.<locale>".
      row.text.name = locale ? `templates.${locale}` : `${row.locale.name}-text`;
      row.textError.dataset.errorFor = row.text.name;
      if (!locale && !row.text.value.trim()) continue;
      if (!locale) problems[row.locale.name] = 'must not be empty';
      else if (seen.has(locale.toLowerCase())) problems[row.locale.name] = `${locale} has another template above`;
      else body.templates[locale] = row.text.value;
      seen.add(locale.toLowerCase());
    }
    if (Object.keys(problems).length) {
      throw new ApiError(400, { error: { code: 'INVALID_ARGUMENT', message: 'Some templates need a change.', details: { fields: problems } } });
    }
    collectAbuse(body);
    return body;
  }

  // Replays the application's recent sends against the policy in the form (not saved). The
  // server names a problem of the proposed policy "policy.<field>": it is shown next to that
  // field as a Save's would be.
  async function runSimulation() {
    if (simulate.disabled) return;
    clearFormError(policyForm);
    saved.textContent = '';
    simulate.disabled = true;
    replace(simulation, h('p', { role: 'status' }, 'Simulating…'));
    try {
      const dayCount = days.value.trim() === '' ? undefined : Number(days.value);
      const result = (await api.post(`${path}/simulate`, { policy: collect(), days: dayCount })).data;
      replace(simulation, simulationView(result, dayCount ?? 7, app));
    } catch (error) {
      replace(simulation);
      const fields = error && error.details && error.details.fields;
      if (fields && typeof fields === 'object') {
        for (const [name, problem] of Object.entries({ ...fields })) {
          if (!name.startsWith('policy.')) continue;
          delete fields[name];
          fields[name.slice('policy.'.length)] = problem;
        }
      }
      showFormError(policyForm, placeTemplateProblems(error));
    } finally {
      simulate.disabled = false;
    }
  }

  // A "templates.<locale>" problem about the tag itself (not a BCP 47 tag, the same locale as
  // another row) belongs next to that row's Locale; any other, next to its text.
  function placeTemplateProblems(error) {
    const fields = error && error.details && error.details.fields;
    if (!fields || typeof fields !== 'object') return error;
    for (const row of templateRows()) {
      const key = row.text.name;
      if (typeof fields[key] === 'string' && /BCP 47|same locale/i.test(fields[key]) && !fields[row.locale.name]) {
        fields[row.locale.name] = fields[key];
        delete fields[key];
      }
    }
    return error;
  }

  const policyForm = form({
    fields: [
      h('div', { class: 'policy-fields' },
        field('Code length', controls.codeLength, '4 to 10 characters.'),
        field('Code alphabet', controls.codeAlphabet, 'Alphanumeric codes leave out O, I and L, and are checked case-insensitively.'),
        field('TTL (seconds)', controls.ttlSeconds, '30 to 3600: how long a code stays valid.'),
        field('Max attempts', controls.maxAttempts, '1 to 10. With the code length, the odds of guessing a code must stay within 1 in 10,000.'),
        field('Default locale', controls.defaultLocale, 'A BCP 47 tag with a template below: used when a send names no locale, or one without a template.'),
        field('Default region', controls.defaultRegion, 'Two letters (GB, US): how a number sent without + is read. Empty: such numbers are refused.'),
        field('Number validation', controls.numberValidation, 'Which numbers a send accepts. valid: numbers the numbering plan knows; possible: any of a possible length; off: any E.164 number.')),
      h('fieldset', { class: 'templates', 'aria-describedby': `${templatesHintId} ${templatesErrorId}` },
        h('legend', {}, 'Templates'),
        h('p', { class: 'hint', id: templatesHintId }, 'One message per locale (en, de, pt-BR), 1 to 480 characters: {code} exactly once; {app} (the application\'s name) and {minutes} (the TTL) where you like.'),
        rows,
        h('p', { class: 'field-error', id: templatesErrorId, 'data-error-for': 'templates' }),
        addTemplate),
      h('fieldset', { class: 'abuse' },
        h('legend', {}, 'Abuse controls'),
        h('p', { class: 'hint' }, app && app.environment === 'test'
          ? 'Against SMS pumping and toll fraud. This is a test application: its sends are exempt (as are +999 numbers), so these apply once it is live.'
          : 'Against SMS pumping and toll fraud. A send is checked against the safe list first (a match skips every rule), then country, number type, the conversion breaker and the daily send limit. Test applications and +999 numbers are exempt.'),
        h('div', { class: 'policy-fields' },
          field('Allowed countries', abuse.allowedCountries, 'Two-letter codes (GB, IE, FR), separated by commas. Empty: every country.'),
          field('Blocked countries', abuse.blockedCountries, 'Two-letter codes refused even when allowed above.'),
          field('Daily send limit', abuse.dailySendLimit, '1 to 1000000000 sends per UTC day; then 429 until midnight. Empty: no limit.')),
        h('div', { class: 'number-type-groups' }, abuse.allowedNumberTypes.element, abuse.blockedNumberTypes.element),
        field('Safe list', abuse.safeList, 'Numbers or prefixes in E.164 (+447911123456, +4474), one a line: no rule here blocks them. Up to 1000.'),
        h('fieldset', { class: 'breaker' },
          h('legend', {}, 'Conversion breaker'),
          h('p', { class: 'hint' }, 'Blocks a destination prefix whose sends are rarely verified (the sign of SMS pumping). Open blocks are listed under Blocks below.'),
          h('div', { class: 'field field-check' }, abuse.breakerEnabled, h('label', { for: breakerEnabledId }, 'Conversion breaker on')),
          h('div', { class: 'policy-fields' },
            BREAKER_FIELDS.map(([name, label, , , , hint]) => field(label, abuse.breaker[name], hint)))),
        h('div', { class: 'simulate' },
          h('h3', {}, 'What if'),
          h('p', { class: 'hint' }, 'Replays this application\'s sends of the last days against the policy as it stands in this form, before you save it. Nothing is changed.'),
          h('div', { class: 'simulate-controls' }, field('Days to replay', days, '1 to 90.'), simulate),
          simulation)),
    ],
    submitLabel: 'Save policy',
    action: async () => {
      saved.textContent = '';
      try {
        policy = (await api.put(path, collect())).data;
      } catch (error) {
        throw placeTemplateProblems(error);
      }
      fill(policy);
      replace(simulation);
      saved.textContent = 'Policy saved.';
    },
  });
  policyForm.querySelector('.actions').append(saved);

  fill(policy);
  section.append(
    h('p', {}, 'How this application\'s codes look, how long they last, how many tries they allow and what the message says. A change applies to codes sent after it.'),
    policyForm,
    h('h3', {}, 'Template previews'),
    previews);
  return section;
}

// The server's rendering of each template with a sample code: what one SMS will carry.
function previewTable(preview) {
  const rows = Object.entries(preview || {}).map(([locale, p]) => ({ locale, ...p }));
  return table({
    caption: 'Each template with a sample code: its encoding, length and SMS segments',
    columns: [
      { label: 'Locale', cell: (r) => r.locale, nowrap: true },
      { label: 'Encoding', cell: (r) => r.encoding, nowrap: true },
      { label: 'Characters', cell: (r) => String(r.characters) },
      { label: 'Segments', cell: (r) => String(r.segments) },
      { label: 'Text', cell: (r) => h('span', { class: 'message' }, r.text) },
    ],
    rows,
    empty: 'No templates to preview.',
  });
}

// What a simulation found: the sends replayed, those the proposed policy would have refused
// (per rule, and how many of them were verified: real users turned away), and the prefixes the
// conversion breaker would have blocked.
function simulationView(result, dayCount, app) {
  const blocked = result.blocked || {};
  const refused = RULES.reduce((sum, [rule]) => sum + Number(blocked[rule] || 0), 0);
  const span = `${dayCount} day${dayCount === 1 ? '' : 's'}`;
  const summary = app && app.environment === 'test'
    ? `A test application's sends are exempt: nothing to replay over the last ${span}.`
    : `Over the last ${span}, ${result.sends} send${result.sends === 1 ? '' : 's'} replayed: this policy would have refused ${refused}`
      + (refused ? `, ${result.verifiedBlocked} of them verified.` : '.');
  const prefixes = result.prefixesBlocked || [];
  return h('div', { class: 'simulation-result' },
    h('p', { role: 'status' }, summary, ' (The policy as it stands in the form; nothing was saved.)'),
    details([
      ['Sends replayed', String(result.sends)],
      ...RULES.map(([rule, label]) => [label, String(blocked[rule] ?? 0)]),
      ['Verified sends refused', String(result.verifiedBlocked)],
    ]),
    table({
      caption: 'Prefixes the conversion breaker would have blocked',
      columns: [
        { label: 'Prefix', cell: (p) => h('code', {}, p.prefix), nowrap: true },
        { label: 'Blocked at', cell: (p) => time(p.blockedAt) },
      ],
      rows: prefixes,
      empty: 'The conversion breaker would have blocked no prefix.',
    }));
}
