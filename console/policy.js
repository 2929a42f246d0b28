// An application's OTP policy (GET/PUT /v1/applications/:id/policy): the codes' length and
// alphabet, TTL, attempts, the message templates per locale and how phone numbers are read.
// Save sends the whole policy (fields this form does not show are sent back as they came), each
// refused field's problem is shown next to it, and the server's preview of every template
// (encoding, characters, SMS segments) is refreshed from its answer.
import { api, ApiError } from './api.js';
import { h, replace, field, input, select, form, table, button, uniqueId, alertBox } from './ui.js';

const ALPHABETS = [
  ['digits', 'digits (0–9)'],
  ['alphanumeric', 'alphanumeric (A–Z, 2–9)'],
];

const VALIDATION = [
  ['valid', 'valid'],
  ['possible', 'possible'],
  ['off', 'off'],
];

// The section, built once per application page: the page may redraw around it (after a rename,
// say) without losing what is being edited here.
export async function policySection(appPath) {
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
    return body;
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
