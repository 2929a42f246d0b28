// An application's open blocks (GET /v1/applications/:id/blocks): the destination prefixes the
// conversion breaker has blocked, with the sends and verifications that tripped it and when each
// reopens; "Lift" reopens one now (DELETE …/blocks/:prefix) and the list is read again.
import { api } from './api.js';
import { h, replace, table, button, time, alertBox, errorText, formAlert, uniqueId } from './ui.js';

// The section, built once per application page (like the policy's), so a redraw of the page
// keeps it; "Refresh" reads the list again.
export async function blocksSection(appPath, app = null) {
  const path = `${appPath}/blocks`;
  const list = h('div', { class: 'blocks-list' });
  const status = h('p', { role: 'status', class: 'saved' });
  const alert = formAlert();
  const refresh = button('Refresh', () => { status.textContent = ''; load(); });
  const section = h('section', { class: 'panel blocks', 'aria-labelledby': 'blocks-title' },
    h('div', { class: 'section-head' },
      h('h2', { id: 'blocks-title' }, 'Blocks'),
      refresh),
    h('p', {}, app && app.environment === 'test'
      ? 'Destination prefixes the conversion breaker has blocked. This is a test application: its sends are exempt, so none will be.'
      : 'Destination prefixes the conversion breaker has blocked: sends to them are refused (403 SEND_BLOCKED) until they reopen. Lift one to let sends through now; it is judged again on the sends after that.'),
    alert,
    status,
    list);

  async function load() {
    try {
      const blocks = (await api.get(path)).data || [];
      replace(list, table({
        caption: 'Open blocks, with the sends and verifications that tripped the breaker',
        columns: [
          { label: 'Prefix', cell: (b) => h('code', { id: b.cellId, class: 'nowrap' }, b.prefix), nowrap: true },
          { label: 'Sends', cell: (b) => String(b.sends) },
          { label: 'Verified', cell: (b) => String(b.verified) },
          { label: 'Blocked at', cell: (b) => time(b.blockedAt) },
          { label: 'Reopens at', cell: (b) => time(b.reopensAt) },
          { label: 'Actions', cell: (b) => liftButton(b) },
        ],
        rows: blocks.map((b) => ({ ...b, cellId: uniqueId('block') })),
        empty: 'No open blocks: every destination prefix can be sent to.',
      }));
    } catch (error) {
      replace(list, alertBox(error));
    }
  }

  // "Lift", described by its row's prefix.
  function liftButton(block) {
    return button('Lift', async (event) => {
      const target = event.currentTarget;
      target.disabled = true;
      alert.hidden = true;
      status.textContent = '';
      try {
        await api.delete(`${path}/${encodeURIComponent(block.prefix)}`);
        status.textContent = `Lifted the block on ${block.prefix}: sends to it go through again.`;
      } catch (error) {
        alert.textContent = errorText(error);
        alert.hidden = false;
      }
      await load();
      // The row (and its button) is gone: focus stays in the section.
      if (!target.isConnected) refresh.focus();
    }, { 'aria-describedby': block.cellId });
  }

  await load();
  return section;
}
