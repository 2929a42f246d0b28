// Projects: list, create, rename / describe, delete (a project with applications answers 409).
import { api } from './api.js';
import { h, replace, field, input, form, table, pageHeader, button, openDialog, confirmAction, time, alertBox } from './ui.js';
import { loadProjects } from './data.js';

export default async function projects({ container }) {
  const list = h('div');
  replace(container, pageHeader('Projects', button('New project', () => editProject(null), { class: 'primary' })), list);

  async function refresh() {
    try {
      const items = await loadProjects();
      replace(list, table({
        caption: 'Your projects, newest first',
        columns: [
          { label: 'Name', cell: (p) => p.name },
          { label: 'Description', cell: (p) => p.description || '—' },
          { label: 'Applications', cell: (p) => h('a', { href: `#/applications?projectId=${encodeURIComponent(p.id)}` }, String(p.applicationCount)) },
          { label: 'Created', cell: (p) => time(p.createdAt) },
          {
            label: 'Actions',
            cell: (p) => h('div', { class: 'row-actions' },
              button('Edit', () => editProject(p)),
              button('Delete', () => deleteProject(p), { class: 'danger' })),
          },
        ],
        rows: items,
        empty: 'No projects yet. A project groups your applications: choose "New project" to create the first one.',
      }));
    } catch (error) {
      replace(list, alertBox(error));
    }
  }

  function editProject(project) {
    const creating = project === null;
    const dialog = openDialog({
      title: creating ? 'New project' : `Edit ${project.name}`,
      body: form({
        fields: [
          field('Name', input('name', { value: creating ? '' : project.name, maxlength: 100, required: true }), '1 to 100 characters.'),
          field('Description', h('textarea', { name: 'description', maxlength: 280, rows: 3 }, creating ? '' : project.description), 'Optional, up to 280 characters.'),
        ],
        submitLabel: creating ? 'Create' : 'Save',
        action: async (values) => {
          const body = { name: values.get('name'), description: values.get('description') };
          if (creating) await api.post('/v1/projects', body);
          else await api.patch(`/v1/projects/${encodeURIComponent(project.id)}`, body);
          dialog.close();
          await refresh();
        },
      }),
    });
  }

  async function deleteProject(project) {
    await confirmAction({
      title: `Delete ${project.name}?`,
      message: project.applicationCount > 0
        ? `This project still has ${project.applicationCount} application${project.applicationCount === 1 ? '' : 's'}. The server refuses to delete a project with applications: delete or move them first (Applications).`
        : 'The project is removed. This cannot be undone.',
      action: async () => {
        try {
          await api.delete(`/v1/projects/${encodeURIComponent(project.id)}`);
        } catch (error) {
          if (error.status === 409) {
            error.message = `${error.message} Delete its applications or move them to another project under Applications, then try again.`;
          }
          throw error;
        }
      },
    });
    await refresh();
  }

  await refresh();
}
