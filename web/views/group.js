/*
 * views/group.js: one access group: Details (rename, describe, delete),
 * Members (add users and service IDs, remove) and Access policies. The
 * Public Access group is implicit: it cannot be changed or given members,
 * but it can be given policies.
 * GET/PATCH/DELETE /v2/groups/{id}, GET/PUT /v2/groups/{id}/members,
 * DELETE /v2/groups/{id}/members/{iam_id}.
 */
import {
  append, rememberFocus, ApiError, api, button, checkbox, confirmDialog, dataTable, details, emptyState, field, h, inlineNote, input, loading,
  messageOf, navigate, notify, openDialog, overflowMenu, pageHeader, replacePath, request, setChildren, state, tabs, tag,
  textarea, timeCell,
} from '/console/app.js';
import { renderAccessPanel } from '/console/views/access-panel.js';
import { PUBLIC_GROUP } from '/console/views/groups.js';
import { userName } from '/console/views/users.js';

export async function render(container, params) {
  const id = params.id;
  const base = `/console/groups/${encodeURIComponent(id)}`;
  let currentTab = params.tab ?? 'details';
  const isPublic = id === PUBLIC_GROUP;

  async function draw() {
    let res;
    try {
      res = await request('GET', `/v2/groups/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        container.replaceChildren(pageHeader({ crumbs: [{ label: 'Access groups', href: '/console/groups' }], title: 'Access group not found' }),
          emptyState('This access group does not exist or was deleted.', 'Go back to the list of access groups.', h('a', { href: '/console/groups', class: 'btn btn-primary' }, 'Access groups')));
        return;
      }
      throw err;
    }
    const group = res.data;
    const etag = res.etag;
    container.replaceChildren(
      pageHeader({
        crumbs: [{ label: 'Access groups', href: '/console/groups' }, { label: group.name }],
        title: group.name,
        description: group.description || null,
        actions: isPublic ? [] : [button('Delete', { kind: 'danger', icon: 'delete', onClick: () => remove(group) })],
      }),
      tabs({
        label: 'Access group sections',
        selected: currentTab,
        onSelect: (t) => { currentTab = t; replacePath(t === 'details' ? base : `${base}/${t}`); },
        items: [
          { id: 'details', label: 'Details', render: (panel) => detailsTab(panel, group, etag) },
          { id: 'members', label: 'Members', render: (panel) => membersTab(panel, group) },
          { id: 'access', label: 'Access policies', render: (panel) => renderAccessPanel(panel, { subject: { attr: 'access_group_id', value: group.id, name: group.name, noun: 'access group' } }) },
        ],
      }));
  }

  function detailsTab(panel, group, etag) {
    const name = input({ name: 'name', value: group.name, maxlength: 100, disabled: isPublic });
    const description = textarea({ name: 'description', value: group.description ?? '', maxlength: 250, disabled: isPublic });
    const note = h('div', { role: 'alert' });
    const save = button('Save', { type: 'submit', disabled: isPublic });
    const form = h('form', { class: 'edit-form', novalidate: true }, h('h2', { class: 'section-title' }, 'Name and description'),
      isPublic ? inlineNote('info', 'Built-in group.', 'Public Access always contains every user and service ID of the account. It cannot be renamed or deleted.') : null,
      field('Name', name), field('Description', description, { optional: true }), note, h('div', { class: 'button-row' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      setChildren(note);
      if (!name.value.trim()) { setChildren(note, inlineNote('error', 'Error:', 'The name cannot be empty.')); name.focus(); return; }
      save.disabled = true;
      try {
        await api.patch(`/v2/groups/${encodeURIComponent(group.id)}`, { name: name.value.trim(), description: description.value.trim() }, { ifMatch: etag || '*' });
        notify.success('Access group saved.');
        await draw();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) setChildren(note, inlineNote('error', 'The group could not be saved.', messageOf(err)));
        save.disabled = false;
      }
    });
    append(panel, h('div', { class: 'two-column' }, form,
      h('section', { class: 'tile', 'aria-labelledby': 'group-facts' }, h('h2', { class: 'section-title', id: 'group-facts' }, 'Details'),
        details([
          ['ID', h('code', {}, group.id)],
          ['Created', timeCell(group.created_at)],
          ['Last modified', timeCell(group.last_modified_at)],
        ]))));
  }

  async function membersTab(panel, group) {
    const list = h('div', { class: 'results' });
    const addBtn = button('Add members', { icon: 'add', disabled: isPublic, onClick: () => addMembers(group).then((n) => { if (n) load(); }) });
    append(panel, h('div', { class: 'section-header' },
      h('div', {}, h('h2', { class: 'section-title' }, 'Members'), h('p', { class: 'section-text' }, 'Users and service IDs in this group get every access policy of the group.')),
      addBtn),
    isPublic ? inlineNote('info', 'Everyone is a member.', 'Every user and service ID of the account is implicitly in Public Access; it has no explicit members.') : null,
    list);
    async function load() {
      const restore = rememberFocus(list);
      try {
        await loadInner();
      } finally {
        restore();
      }
    }

    async function loadInner() {
      setChildren(list, loading());
      try {
        const data = await api.get(`/v2/groups/${encodeURIComponent(group.id)}/members`, { verbose: 'true', limit: 100 });
        const rows = data.members ?? [];
        setChildren(list, dataTable({
          label: `Members of ${group.name}`,
          columns: [
            { key: 'name', label: 'Name', render: (m) => memberLink(m) },
            { key: 'type', label: 'Type', render: (m) => tag(m.type === 'service' ? 'Service ID' : m.type === 'profile' ? 'Trusted profile' : 'User', m.type === 'service' ? 'blue' : 'gray') },
            { key: 'iam_id', label: 'IAM ID', render: (m) => h('code', {}, m.iam_id) },
            { key: 'created_at', label: 'Added', render: (m) => timeCell(m.created_at) },
            { key: 'actions', label: '', class: 'col-actions', render: (m) => overflowMenu(`Actions for member ${m.name || m.iam_id}`, [
              { label: 'Remove from group', danger: true, onSelect: () => removeMember(group, m).then((ok) => { if (ok) load(); }) },
            ]) },
          ],
          rows,
          empty: isPublic ? emptyState('No explicit members.', 'Public Access needs none.') : emptyState('This group has no members.', 'Add users and service IDs to give them the group\'s access.', button('Add members', { kind: 'tertiary', onClick: () => addBtn.click() })),
        }), data.total_count > rows.length ? h('p', { class: 'muted' }, `Showing ${rows.length} of ${data.total_count} members.`) : null);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) setChildren(list, inlineNote('error', 'The members could not be loaded.', messageOf(err)));
      }
    }
    await load();
  }

  function memberLink(m) {
    const label = m.name || m.iam_id;
    if (m.type === 'user') return h('a', { href: `/console/users/${encodeURIComponent(m.iam_id)}` }, label);
    if (m.type === 'service') return h('a', { href: `/console/serviceids/${encodeURIComponent(m.iam_id.replace(/^iam-/, ''))}` }, label);
    return label;
  }

  async function addMembers(group) {
    let users = [];
    let sids = [];
    let current = new Set();
    try {
      const [u, s, m] = await Promise.all([
        api.get(`/v1/accounts/${state.session.account_id}/users`, { pagesize: 100 }),
        api.get('/v1/serviceids', { account_id: state.session.account_id, pagesize: 100, sort: 'name' }),
        api.get(`/v2/groups/${encodeURIComponent(group.id)}/members`, { limit: 100 }),
      ]);
      users = u.users ?? [];
      sids = s.serviceids ?? [];
      current = new Set((m.members ?? []).map((x) => x.iam_id));
    } catch (err) {
      notify.failure('The users and service IDs could not be loaded.', err);
      return 0;
    }
    const candidates = [
      ...users.map((x) => ({ iam_id: x.iam_id, type: 'user', label: `${userName(x)} (${x.login})`, kind: 'User' })),
      ...sids.map((x) => ({ iam_id: x.iam_id, type: 'service', label: x.name, kind: 'Service ID' })),
    ].filter((c) => !current.has(c.iam_id));
    const filter = input({ type: 'search', name: 'filter', placeholder: 'Filter by name' });
    const boxes = candidates.map((c) => ({ c, el: checkbox(`${c.label}`, { value: c.iam_id, name: 'member' }, c.kind) }));
    const listBox = h('fieldset', { class: 'member-picker' }, h('legend', { class: 'field-label' }, 'Users and service IDs'), boxes.map((b) => b.el));
    filter.addEventListener('input', () => {
      const q = filter.value.trim().toLowerCase();
      for (const b of boxes) b.el.hidden = q && !b.c.label.toLowerCase().includes(q);
    });
    let added = 0;
    await new Promise((resolve) => openDialog({
      title: 'Add members', label: group.name, primary: 'Add', wide: true,
      content: candidates.length
        ? [field('Filter', filter), listBox]
        : [inlineNote('info', 'Nobody to add.', 'Every user and service ID is a member already. Invite users or create service IDs first.')],
      onSubmit: async ({ setError }) => {
        const chosen = boxes.filter((b) => b.el.querySelector('input').checked).map((b) => ({ iam_id: b.c.iam_id, type: b.c.type }));
        if (!chosen.length) { setError('Choose at least one user or service ID.'); return false; }
        const res = await request('PUT', `/v2/groups/${encodeURIComponent(group.id)}/members`, { body: { members: chosen.slice(0, 50) } });
        const failed = (res.data?.members ?? []).filter((m) => m.status_code >= 300);
        added = chosen.length - failed.length;
        if (failed.length) {
          const msg = failed.map((f) => `${f.iam_id}: ${f.errors?.[0]?.message ?? `HTTP ${f.status_code}`}`).join('; ');
          if (!added) throw new Error(msg);
          notify.error(`${failed.length} could not be added.`, msg);
        }
        if (added) notify.success(`${added} member${added === 1 ? '' : 's'} added to "${group.name}".`);
        return true;
      },
      onClose: resolve,
    }));
    return added;
  }

  async function removeMember(group, m) {
    return confirmDialog({
      title: 'Remove member', confirmLabel: 'Remove',
      message: [h('p', {}, 'Remove ', h('strong', {}, m.name || m.iam_id), ' from ', h('strong', {}, group.name), '?'),
        h('p', {}, 'They lose the access the group gives them at once.')],
      action: () => api.del(`/v2/groups/${encodeURIComponent(group.id)}/members/${encodeURIComponent(m.iam_id)}`),
    }).then((done) => {
      if (done) notify.success(`${m.name || m.iam_id} removed from "${group.name}".`);
      return done;
    });
  }

  function remove(group) {
    confirmDialog({
      title: 'Delete access group', confirmLabel: 'Delete group',
      message: [h('p', {}, 'Delete the access group ', h('strong', {}, group.name), '?'),
        h('p', {}, 'Its members lose the access it gives them, and its policies are deleted. This cannot be undone.')],
      action: () => api.del(`/v2/groups/${encodeURIComponent(group.id)}`, { query: { force: 'true' } }),
    }).then((done) => {
      if (done) {
        notify.success(`Access group "${group.name}" deleted.`);
        navigate('/console/groups');
      }
    });
  }

  await draw();
}
