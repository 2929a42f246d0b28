// Small DOM helpers shared by every page: element building, tables, dialogs, errors, times.
let uniqueCounter = 0;
export const uniqueId = (prefix) => `${prefix}-${++uniqueCounter}`;

// h('button', { class: 'primary', onclick: fn, 'aria-label': 'x' }, 'text', child, ...)
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'value') element.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'required' || key === 'readOnly') element[key] = Boolean(value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// A labelled form control: <div class="field"><label>Name</label><input ...><p class="field-error"></p></div>
export function field(label, control, hint) {
  const id = control.id || uniqueId('field');
  control.id = id;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, 'data-error-for': control.name || '' }));
}

export function input(name, props = {}) {
  return h('input', { name, type: 'text', autocomplete: 'off', ...props });
}

export function select(name, options, props = {}) {
  return h('select', { name, ...props },
    options.map(([value, label]) => h('option', { value, selected: String(props.value ?? '') === String(value) }, label)));
}

export function button(label, onclick, props = {}) {
  return h('button', { type: 'button', onclick, ...props }, label);
}

// A real table with header cells. columns: [{ label, cell: (row) => node|string, nowrap? }]
export function table({ caption, columns, rows, empty }) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  const captionId = uniqueId('caption');
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': captionId },
    h('table', {},
      h('caption', { id: captionId }, caption),
      h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col' }, column.label)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((column, index) => {
        const content = column.cell(row);
        const props = { class: column.nowrap ? 'nowrap' : null };
        return index === 0 && column.header !== false ? h('th', { scope: 'row', ...props }, content) : h('td', props, content);
      }))))));
}

// A <dl> of label/value pairs.
export function details(pairs) {
  return h('dl', { class: 'details' }, pairs.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value ?? '—')]));
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function time(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return h('time', { datetime: iso, title: iso }, timeFormat.format(date));
}

// The sentence shown for an API error: the envelope's message, and when to retry after a 429.
export function errorText(error) {
  if (!error) return '';
  let text = error.message || String(error);
  if (error.status === 429 && error.retryAfter !== null && error.retryAfter !== undefined) {
    text += ` Try again in ${error.retryAfter} second${Number(error.retryAfter) === 1 ? '' : 's'}.`;
  }
  return text;
}

export function alertBox(error) {
  return h('p', { class: 'alert', role: 'alert' }, errorText(error));
}

// Shows an error on a form: each named field's problem next to it, the rest at the top.
export function showFormError(form, error) {
  clearFormError(form);
  const fields = error && error.fieldErrors ? error.fieldErrors : {};
  let placed = 0;
  for (const [name, problem] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!slot) continue;
    // "must be …" reads after the field's name; a whole sentence ("5 attempts at …") after a colon.
    const label = labelFor(form, control) || name;
    slot.textContent = `${label}${/^[a-z]/.test(problem) ? ' ' : ': '}${problem}.`.replace('..', '.');
    if (control) control.setAttribute('aria-invalid', 'true');
    placed += 1;
  }
  const box = form.querySelector('.form-alert');
  if (box && (placed === 0 || Object.keys(fields).length > placed)) {
    box.textContent = errorText(error);
    box.hidden = false;
  }
  // A group of checkboxes (a <fieldset name=…>) is invalid as a whole: focus goes to its first box.
  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  const focusTarget = firstInvalid && firstInvalid.tagName === 'FIELDSET' ? firstInvalid.querySelector('input, select, textarea') : firstInvalid;
  if (focusTarget) focusTarget.focus();
}

// A control's label; a group's (fieldset's) legend.
function labelFor(form, control) {
  if (!control) return null;
  if (control.tagName === 'FIELDSET') {
    const legend = control.querySelector(':scope > legend');
    return legend ? legend.textContent : null;
  }
  if (!control.id) return null;
  const label = form.querySelector(`label[for="${CSS.escape(control.id)}"]`);
  return label ? label.textContent : null;
}

export function clearFormError(form) {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  const box = form.querySelector('.form-alert');
  if (box) { box.textContent = ''; box.hidden = true; }
}

export function formAlert() {
  return h('p', { class: 'alert form-alert', role: 'alert', hidden: true });
}

// A form whose submit runs `action(values)`, disabling the submit button meanwhile and showing
// the API's errors next to the fields.
export function form({ fields, submitLabel, action }) {
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const element = h('form', { novalidate: true }, formAlert(), fields, h('div', { class: 'actions' }, submit));
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(element);
    submit.disabled = true;
    try {
      await action(new FormData(element), element);
    } catch (error) {
      showFormError(element, error);
    } finally {
      submit.disabled = false;
    }
  });
  return element;
}

// While a modal dialog is open the page behind it is inert and hidden from assistive technology
// (and from role queries), so "Create" or "Delete" names only the dialog's button.
let openDialogs = 0;
const dialogClosers = new Set();
function setBackgroundHidden(delta) {
  openDialogs = Math.max(0, openDialogs + delta);
  const root = document.getElementById('app');
  if (!root) return;
  if (openDialogs > 0) {
    root.setAttribute('aria-hidden', 'true');
    root.inert = true;
  } else {
    root.removeAttribute('aria-hidden');
    root.inert = false;
  }
}

// A modal <dialog>; returns { element, close }. Escape and "Close" close it; focus returns
// to whatever had it before.
export function openDialog({ title, body, onClose, closeLabel = 'Close', focusTitle = false }) {
  const previous = document.activeElement;
  const titleId = uniqueId('dialog-title');
  const element = h('dialog', { 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' },
      h('h2', { id: titleId, tabindex: '-1' }, title),
      h('button', { type: 'button', class: 'ghost', onclick: () => close() }, closeLabel)),
    body);
  let closed = false;
  setBackgroundHidden(+1);
  dialogClosers.add(close);
  function close() {
    if (closed) return;
    closed = true;
    dialogClosers.delete(close);
    if (element.open) element.close();
    element.remove();
    setBackgroundHidden(-1);
    if (onClose) onClose();
    // Back to what opened the dialog, or (when that is gone, as after a submit) the page title.
    const target = previous && previous.isConnected && previous !== document.body ? previous : document.getElementById('page-title');
    if (target) target.focus();
  }
  element.addEventListener('close', close);
  document.body.append(element);
  element.showModal();
  // A form dialog starts in its first field; a dialog that shows something starts at its title,
  // so what it says is read first.
  const first = focusTitle ? null : element.querySelector('input:not([type=hidden]):not([readonly]), select, textarea');
  (first || element.querySelector(`#${titleId}`)).focus();
  return { element, close };
}

// Closes every open dialog (the session ended under them).
export function closeAllDialogs() {
  for (const close of [...dialogClosers]) close();
}

// Asks before something that cannot be undone; resolves to true when confirmed. `action` runs
// inside the dialog so its error (a 409, say) is shown there.
export function confirmAction({ title, message, confirmLabel = 'Delete', action }) {
  return new Promise((resolve) => {
    const alert = formAlert();
    const confirm = h('button', { type: 'button', class: 'danger' }, confirmLabel);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    let done = false;
    const dialog = openDialog({
      title,
      body: h('div', {}, h('p', {}, message), alert, h('div', { class: 'actions' }, cancel, confirm)),
      onClose: () => { if (!done) resolve(false); },
    });
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      alert.hidden = true;
      try {
        await action();
        done = true;
        dialog.close();
        resolve(true);
      } catch (error) {
        alert.textContent = errorText(error);
        alert.hidden = false;
        confirm.disabled = false;
      }
    });
    confirm.focus();
  });
}

// A "Copy" button for a value; says "Copied" for a moment.
export function copyButton(getValue, describedBy) {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', {
    type: 'button',
    class: 'copy',
    'aria-describedby': describedBy,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(getValue());
        status.textContent = 'Copied';
      } catch {
        status.textContent = 'Copy failed: select the value and copy it by hand';
      }
      setTimeout(() => { status.textContent = ''; }, 2500);
    },
  }, 'Copy');
  return [copy, status];
}

// A credential shown once: its label, its value in a read-only text box labelled by that name
// (so it can be selected, read as text or as a value, and announced), and Copy.
export function secretValue(label, value) {
  const id = uniqueId('secret');
  const labelId = `${id}-label`;
  const box = h('textarea', { id, class: 'secret', readOnly: true, rows: '2', spellcheck: 'false', autocomplete: 'off', wrap: 'soft' }, value);
  box.addEventListener('focus', () => box.select());
  return h('div', { class: 'credential' },
    h('label', { id: labelId, for: id }, label),
    h('div', { class: 'credential-row' },
      box,
      copyButton(() => value, labelId)));
}

// A page title, focused after navigation so screen readers announce the new page.
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1', id: 'page-title' }, title), h('div', { class: 'page-actions' }, actions));
}

export function statusBadge(status) {
  return h('span', { class: `badge badge-${String(status).replace(/[^a-z_]/gi, '')}` }, status ?? '—');
}
