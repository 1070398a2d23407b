/*
 * views/serviceid.js: one service ID: Details (edit name and description,
 * lock/unlock, delete with a confirmation naming it), Access policies and
 * API keys tabs. A locked service ID shows every change control disabled with
 * a message saying how to unlock it.
 * GET/PUT/DELETE /v1/serviceids/{id}, POST/DELETE /v1/serviceids/{id}/lock.
 */
import {
  append, ApiError, api, button, confirmDialog, details, emptyState, field, h, inlineNote, input, invalidate, messageOf, navigate,
  notify, pageHeader, replacePath, request, setChildren, tabs, tag, textarea, timeCell,
} from '/console/app.js';
import { renderAccessPanel } from '/console/views/access-panel.js';
import { renderKeysPanel } from '/console/views/keys-panel.js';

const LOCKED_MESSAGE = 'This service ID is locked: its details, access policies and API keys cannot be changed and it cannot be deleted. Unlock it to make changes.';

export async function render(container, params) {
  const id = params.id;
  const base = `/console/serviceids/${encodeURIComponent(id)}`;
  let currentTab = params.tab ?? 'details';

  async function draw({ focusTitle = false } = {}) {
    let sid;
    try {
      sid = await api.get(`/v1/serviceids/${encodeURIComponent(id)}`, { include_activity: 'true' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        container.replaceChildren(pageHeader({ crumbs: [{ label: 'Service IDs', href: '/console/serviceids' }], title: 'Service ID not found' }),
          emptyState('This service ID does not exist or was deleted.', 'Go back to the list of service IDs.', h('a', { href: '/console/serviceids', class: 'btn btn-primary' }, 'Service IDs')));
        return;
      }
      throw err;
    }
    const readOnly = sid.locked ? { message: LOCKED_MESSAGE } : null;
    const lockBtn = button(sid.locked ? 'Unlock' : 'Lock', {
      kind: 'secondary', icon: sid.locked ? 'unlocked' : 'locked',
      onClick: () => toggleLock(sid),
    });
    const deleteBtn = button('Delete', { kind: 'danger', icon: 'delete', disabled: sid.locked, onClick: () => remove(sid) });
    container.replaceChildren(
      pageHeader({
        crumbs: [{ label: 'Service IDs', href: '/console/serviceids' }, { label: sid.name }],
        title: sid.name,
        status: sid.locked ? tag('Locked', 'purple') : null,
        description: sid.description || null,
        actions: [lockBtn, deleteBtn],
      }),
      sid.locked ? h('div', { class: 'page-note', role: 'status' }, inlineNote('warning', 'Locked.', LOCKED_MESSAGE)) : h('div', { class: 'page-note', role: 'status' }),
      tabs({
        label: 'Service ID sections',
        selected: currentTab,
        onSelect: (t) => { currentTab = t; replacePath(t === 'details' ? base : `${base}/${t}`); },
        items: [
          { id: 'details', label: 'Details', render: (panel) => detailsTab(panel, sid) },
          { id: 'access', label: 'Access policies', render: (panel) => renderAccessPanel(panel, { subject: { attr: 'iam_id', value: sid.iam_id, name: sid.name, noun: 'service ID' }, readOnly }) },
          { id: 'apikeys', label: 'API keys', render: (panel) => renderKeysPanel(panel, { owner: { iamId: sid.iam_id, name: sid.name, noun: 'service ID' }, readOnly }) },
        ],
      }));
    if (focusTitle) container.querySelector('h1')?.focus();
  }

  function detailsTab(panel, sid) {
    const name = input({ name: 'name', value: sid.name, maxlength: 1000, disabled: sid.locked });
    const description = textarea({ name: 'description', value: sid.description ?? '', maxlength: 1000, disabled: sid.locked });
    const save = button('Save', { type: 'submit', disabled: sid.locked });
    const formNote = h('div', { role: 'alert' });
    const form = h('form', { class: 'edit-form', novalidate: true },
      h('h2', { class: 'section-title' }, 'Name and description'),
      sid.locked ? inlineNote('warning', 'Read-only.', 'Unlock the service ID to edit it.') : null,
      field('Name', name), field('Description', description, { optional: true }), formNote, h('div', { class: 'button-row' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      setChildren(formNote);
      const n = name.value.trim();
      if (!n) { name.setAttribute('aria-invalid', 'true'); setChildren(formNote, inlineNote('error', 'Error:', 'The name cannot be empty.')); name.focus(); return; }
      name.removeAttribute('aria-invalid');
      save.disabled = true;
      try {
        await api.put(`/v1/serviceids/${encodeURIComponent(sid.id)}`, { name: n, description: description.value.trim() }, { ifMatch: sid.entity_tag || '*' });
        invalidate('serviceids');
        notify.success('Service ID saved.', `Name "${n}".`);
        await draw();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) setChildren(formNote, inlineNote('error', 'The service ID could not be saved.', messageOf(err)));
        save.disabled = false;
      }
    });
    append(panel, h('div', { class: 'two-column' },
      form,
      h('section', { class: 'tile', 'aria-labelledby': 'sid-facts' }, h('h2', { class: 'section-title', id: 'sid-facts' }, 'Details'),
        details([
          ['ID', h('code', {}, sid.id)],
          ['IAM ID', h('code', {}, sid.iam_id)],
          ['CRN', h('code', { class: 'wrap' }, sid.crn)],
          ['Status', sid.locked ? tag('Locked', 'purple') : tag('Unlocked', 'gray')],
          ['Created', timeCell(sid.created_at)],
          ['Last modified', timeCell(sid.modified_at)],
          sid.activity ? ['Last authentication', timeCell(sid.activity.last_authn, 'Never')] : null,
          sid.activity ? ['Authentications', String(sid.activity.authn_count ?? 0)] : null,
        ]))));
  }

  async function toggleLock(sid) {
    try {
      await request(sid.locked ? 'DELETE' : 'POST', `/v1/serviceids/${encodeURIComponent(sid.id)}/lock`);
      notify.success(sid.locked ? `Service ID "${sid.name}" unlocked.` : `Service ID "${sid.name}" locked.`,
        sid.locked ? 'It can be changed again.' : 'It cannot be changed or deleted until it is unlocked.');
      await draw();
      container.querySelector('.page-actions button')?.focus();
    } catch (err) {
      notify.failure(`The service ID "${sid.name}" could not be ${sid.locked ? 'unlocked' : 'locked'}.`, err);
    }
  }

  function remove(sid) {
    confirmDialog({
      title: 'Delete service ID',
      confirmLabel: 'Delete service ID',
      message: [
        h('p', {}, 'Delete the service ID ', h('strong', {}, sid.name), '?'),
        h('p', {}, 'Its API keys are deleted with it and applications using them lose access at once. Its access policies are removed. This cannot be undone.'),
      ],
      action: () => api.del(`/v1/serviceids/${encodeURIComponent(sid.id)}`),
    }).then((done) => {
      if (done) {
        invalidate('serviceids');
        notify.success(`Service ID "${sid.name}" deleted.`);
        navigate('/console/serviceids');
      }
    });
  }

  await draw();
}
