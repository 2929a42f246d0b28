// Profile: name and company are editable; email, plan and the virtual number are shown.
import { api, session } from './api.js';
import { h, replace, field, input, form, pageHeader, time, details } from './ui.js';

export default async function profile({ container, refreshWho }) {
  let me = (await api.get('/v1/developer/me')).data;
  const saved = h('p', { role: 'status', class: 'saved' });
  function render() {
    replace(container,
      pageHeader('Profile'),
      details([
        ['Email', me.email],
        ['Plan', me.plan],
        ['Virtual number', h('span', {}, me.virtualPhoneNumber)],
        ['Member since', time(me.createdAt)],
      ]),
      h('p', { class: 'hint' }, 'Your virtual number is yours for testing: codes sent to it land in the Inbox.'),
      h('section', { class: 'panel', 'aria-labelledby': 'profile-edit' },
        h('h2', { id: 'profile-edit' }, 'Your details'),
        form({
          fields: [
            field('Name', input('name', { value: me.name || '', maxlength: 100, autocomplete: 'name' }), 'Up to 100 characters.'),
            field('Company', input('company', { value: me.company || '', maxlength: 100, autocomplete: 'organization' }), 'Up to 100 characters.'),
          ],
          submitLabel: 'Save',
          action: async (values) => {
            me = (await api.patch('/v1/developer/me', { name: values.get('name'), company: values.get('company') })).data;
            session.developer = me;
            refreshWho();
            render();
            saved.textContent = 'Saved.';
          },
        }),
        saved));
  }
  render();
}
