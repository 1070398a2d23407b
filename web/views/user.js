/*
 * views/user.js: one user: Details (edit names and email, disable/enable,
 * set a password, remove), Access policies, API keys, Access groups (the
 * groups they are a member of).
 * GET/PATCH/DELETE /v1/accounts/{account}/users/{iam_id}, PUT …/password,
 * GET /v2/groups?iam_id=.
 */
import {
  append, ApiError, api, button, confirmDialog, dataTable, details, emptyState, field, h, inlineNote, input, invalidate,
  loading, messageOf, navigate, notify, openDialog, pageHeader, replacePath, setChildren, state, tabs, timeCell,
} from '/console/app.js';
import { renderAccessPanel } from '/console/views/access-panel.js';
import { renderKeysPanel } from '/console/views/keys-panel.js';
import { userName, userState } from '/console/views/users.js';

export async function render(container, params) {
  const id = params.id;
  const base = `/console/users/${encodeURIComponent(id)}`;
  const userPath = () => `/v1/accounts/${state.session.account_id}/users/${encodeURIComponent(id)}`;
  let currentTab = params.tab ?? 'details';

  async function draw() {
    let user;
    try {
      user = await api.get(userPath());
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        container.replaceChildren(pageHeader({ crumbs: [{ label: 'Users', href: '/console/users' }], title: 'User not found' }),
          emptyState('This user does not exist or was removed.', 'Go back to the list of users.', h('a', { href: '/console/users', class: 'btn btn-primary' }, 'Users')));
        return;
      }
      throw err;
    }
    const name = userName(user);
    const self = user.iam_id === state.session.iam_id;
    const disabled = user.state === 'DISABLED';
    container.replaceChildren(
      pageHeader({
        crumbs: [{ label: 'Users', href: '/console/users' }, { label: name }],
        title: name,
        status: userState(user),
        description: user.email || null,
        actions: [
          button(disabled ? 'Enable' : 'Disable', { kind: 'secondary', onClick: () => setState(user, disabled ? 'ACTIVE' : 'DISABLED') }),
          button('Remove', { kind: 'danger', icon: 'delete', disabled: self, title: self ? 'You cannot remove yourself.' : null, onClick: () => remove(user) }),
        ],
      }),
      tabs({
        label: 'User sections',
        selected: currentTab,
        onSelect: (t) => { currentTab = t; replacePath(t === 'details' ? base : `${base}/${t}`); },
        items: [
          { id: 'details', label: 'Details', render: (panel) => detailsTab(panel, user) },
          { id: 'access', label: 'Access policies', render: (panel) => renderAccessPanel(panel, { subject: { attr: 'iam_id', value: user.iam_id, name, noun: 'user' } }) },
          { id: 'apikeys', label: 'API keys', render: (panel) => renderKeysPanel(panel, { owner: { iamId: user.iam_id, name, noun: 'user' } }) },
          { id: 'groups', label: 'Access groups', render: (panel) => groupsTab(panel, user, name) },
        ],
      }));
  }

  function detailsTab(panel, user) {
    const email = input({ name: 'email', type: 'email', value: user.email ?? '', maxlength: 254 });
    const given = input({ name: 'given_name', value: user.given_name ?? '', maxlength: 100 });
    const family = input({ name: 'family_name', value: user.family_name ?? '', maxlength: 100 });
    const note = h('div', { role: 'alert' });
    const save = button('Save', { type: 'submit' });
    const form = h('form', { class: 'edit-form', novalidate: true }, h('h2', { class: 'section-title' }, 'Profile'),
      field('Email', email), h('div', { class: 'field-row' }, field('First name', given), field('Last name', family)), note,
      h('div', { class: 'button-row' }, save, button('Set password', { kind: 'secondary', onClick: () => passwordDialog(user) })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      setChildren(note);
      save.disabled = true;
      try {
        await api.patch(userPath(), { email: email.value.trim(), given_name: given.value.trim(), family_name: family.value.trim() }, { ifMatch: user.entity_tag || '*' });
        invalidate('users');
        notify.success('User saved.');
        await draw();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) setChildren(note, inlineNote('error', 'The user could not be saved.', messageOf(err)));
        save.disabled = false;
      }
    });
    append(panel, h('div', { class: 'two-column' }, form,
      h('section', { class: 'tile', 'aria-labelledby': 'user-facts' }, h('h2', { class: 'section-title', id: 'user-facts' }, 'Details'),
        details([
          ['Login name', user.login],
          ['IAM ID', h('code', {}, user.iam_id)],
          ['Status', userState(user)],
          ['Password', user.password_set ? 'Set' : 'Not set'],
          ['Added', timeCell(user.created_at)],
          ['Last modified', timeCell(user.modified_at)],
        ]))));
  }

  function passwordDialog(user) {
    const self = user.iam_id === state.session.iam_id;
    const current = input({ name: 'current_password', type: 'password', autocomplete: 'current-password' });
    const pw = input({ name: 'password', type: 'password', autocomplete: 'new-password', maxlength: 256 });
    const again = input({ name: 'password_again', type: 'password', autocomplete: 'new-password', maxlength: 256 });
    openDialog({
      title: 'Set password', label: userName(user), primary: 'Set password',
      content: [
        self && user.password_set ? field('Current password', current) : null,
        field('New password', pw, { help: 'At least 12 characters.' }), field('Repeat the new password', again),
      ],
      onSubmit: async ({ setError }) => {
        if (pw.value.length < 12) { setError('The password must have at least 12 characters.'); pw.focus(); return false; }
        if (pw.value !== again.value) { setError('The two passwords differ.'); again.focus(); return false; }
        const body = { password: pw.value };
        if (self && user.password_set) body.current_password = current.value;
        await api.put(`${userPath()}/password`, body);
        pw.value = ''; again.value = ''; current.value = '';
        notify.success('Password set.', `${userName(user)} can sign in with it now.`);
        draw();
        return true;
      },
    });
  }

  async function groupsTab(panel, user, name) {
    const list = h('div', {}, loading());
    append(panel, h('div', { class: 'section-header' }, h('div', {}, h('h2', { class: 'section-title' }, 'Access groups'),
      h('p', { class: 'section-text' }, `The groups ${name} is a member of. Members get every policy of their groups.`))), list);
    try {
      const data = await api.get('/v2/groups', { account_id: state.session.account_id, iam_id: user.iam_id, limit: 100 });
      setChildren(list, dataTable({
        label: `Access groups of ${name}`,
        columns: [
          { key: 'name', label: 'Group', render: (g) => h('a', { href: `/console/groups/${encodeURIComponent(g.id)}` }, g.name) },
          { key: 'description', label: 'Description', class: 'col-wide' },
        ],
        rows: data.groups ?? [],
        empty: emptyState(`${name} is in no access group.`, 'Open an access group and add them as a member.', h('a', { href: '/console/groups', class: 'btn btn-tertiary' }, 'Access groups')),
      }));
    } catch (err) {
      setChildren(list, inlineNote('error', 'The groups could not be loaded.', messageOf(err)));
    }
  }

  async function setState(user, next) {
    const go = async () => {
      await api.patch(userPath(), { state: next }, { ifMatch: user.entity_tag || '*' });
      invalidate('users');
    };
    if (next === 'DISABLED') {
      const done = await confirmDialog({
        title: 'Disable user', confirmLabel: 'Disable',
        message: [h('p', {}, 'Disable ', h('strong', {}, userName(user)), '?'),
          h('p', {}, 'They cannot sign in, and their tokens and API keys stop working at once. You can enable them again.')],
        action: go,
      });
      if (done) { notify.success(`User "${userName(user)}" disabled.`); await draw(); }
      return;
    }
    try {
      await go();
      notify.success(`User "${userName(user)}" enabled.`, 'They can sign in again.');
      await draw();
    } catch (err) {
      notify.failure('The user could not be enabled.', err);
    }
  }

  function remove(user) {
    confirmDialog({
      title: 'Remove user', confirmLabel: 'Remove user',
      message: [h('p', {}, 'Remove ', h('strong', {}, userName(user)), ` (${user.login}) from the account?`),
        h('p', {}, 'Their API keys, group memberships and access policies are deleted with them. This cannot be undone.')],
      action: () => api.del(userPath()),
    }).then((done) => {
      if (done) {
        invalidate('users');
        notify.success(`User "${userName(user)}" removed.`);
        navigate('/console/users');
      }
    });
  }

  await draw();
}
