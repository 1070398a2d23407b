/*
 * views/users.js: the account's users (GET /v1/accounts/{account}/users,
 * pages of 20) and the Invite dialog (POST, with an optional initial password).
 */
import {
  append, rememberFocus, ApiError, api, button, dataTable, emptyState, field, h, inlineNote, input, invalidate, loading, messageOf, navigate,
  notify, openDialog, pageHeader, pageTokenOf, pager, setChildren, state, tag, timeCell,
} from '/console/app.js';

const PAGE_SIZE = 20;

export function userName(u) {
  const full = [u.given_name, u.family_name].filter(Boolean).join(' ');
  return full || u.login || u.iam_id;
}

export function userState(u) {
  return u.state === 'DISABLED' ? tag('Disabled', 'red') : tag('Active', 'green');
}

function inviteDialog() {
  const login = input({ name: 'login', maxlength: 64, autocapitalize: 'none' });
  const email = input({ name: 'email', type: 'email', maxlength: 254 });
  const given = input({ name: 'given_name', maxlength: 100 });
  const family = input({ name: 'family_name', maxlength: 100 });
  const password = input({ name: 'password', type: 'password', autocomplete: 'new-password', maxlength: 256 });
  return new Promise((resolve) => {
    let created = null;
    openDialog({
      title: 'Invite user', label: 'Users', primary: 'Invite',
      content: [
        h('p', { class: 'dialog-text' }, 'The user signs in with their login name. Give them an initial password now, or let them use an API key you create for them.'),
        field('Login name', login, { help: '3 to 64 letters, digits, dots, underscores, @ or hyphens.' }),
        field('Email', email),
        h('div', { class: 'field-row' }, field('First name', given), field('Last name', family)),
        field('Initial password', password, { optional: true, help: 'At least 12 characters.' }),
      ],
      onSubmit: async ({ setError }) => {
        for (const [el, what] of [[login, 'a login name'], [email, 'an email address'], [given, 'a first name'], [family, 'a last name']]) {
          if (!el.value.trim()) { el.setAttribute('aria-invalid', 'true'); setError(`Enter ${what}.`); el.focus(); return false; }
          el.removeAttribute('aria-invalid');
        }
        if (password.value && password.value.length < 12) { setError('The password must have at least 12 characters.'); password.focus(); return false; }
        const body = { login: login.value.trim(), email: email.value.trim(), given_name: given.value.trim(), family_name: family.value.trim() };
        if (password.value) body.password = password.value;
        created = await api.post(`/v1/accounts/${state.session.account_id}/users`, body);
        password.value = '';
        invalidate('users');
        return true;
      },
      onClose: () => resolve(created),
    });
  });
}

export async function render(container) {
  let tokens = [null];
  let page = 0;
  const results = h('div', { class: 'results' });
  const inviteBtn = button('Invite user', { icon: 'add', onClick: async () => {
    const u = await inviteDialog();
    if (u) {
      notify.success(`User "${u.login}" invited.`, 'Next: assign access or add them to an access group.');
      navigate(`/console/users/${encodeURIComponent(u.iam_id)}`);
    }
  } });
  append(container, pageHeader({
    crumbs: [{ label: 'Manage' }, { label: 'Access (IAM)' }],
    title: 'Users',
    description: 'People who sign in to this account. Give them access through policies or access groups.',
    actions: [inviteBtn],
  }), results);

  async function load() {

    const restore = rememberFocus(results);

    try {

      await loadInner();

    } finally {

      restore();

    }

  }


  async function loadInner() {
    setChildren(results, loading());
    let data;
    try {
      data = await api.get(`/v1/accounts/${state.session.account_id}/users`, { pagesize: PAGE_SIZE, pagetoken: tokens[page] ?? undefined });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setChildren(results, inlineNote('error', 'The users could not be loaded.', messageOf(err), { live: true }));
      return;
    }
    const rows = data.users ?? [];
    const offset = data.offset ?? page * PAGE_SIZE;
    setChildren(results, dataTable({
      label: 'Users',
      columns: [
        { key: 'name', label: 'Name', render: (u) => h('a', { href: `/console/users/${encodeURIComponent(u.iam_id)}` }, userName(u)) },
        { key: 'login', label: 'Login name' },
        { key: 'email', label: 'Email' },
        { key: 'state', label: 'Status', render: userState },
        { key: 'password', label: 'Password', render: (u) => (u.password_set ? 'Set' : 'Not set') },
        { key: 'created_at', label: 'Added', render: (u) => timeCell(u.created_at) },
      ],
      rows,
      empty: emptyState('No users yet.', 'Invite the people who manage this account.', button('Invite user', { kind: 'tertiary', onClick: () => inviteBtn.click() })),
    }), rows.length || page > 0 ? pager({
      label: 'User pages', from: offset + 1, to: offset + rows.length, hasPrev: page > 0, hasNext: !!data.next,
      onPrev: () => { page -= 1; load(); },
      onNext: () => { tokens = tokens.slice(0, page + 1); tokens.push(pageTokenOf(data.next)); page += 1; load(); },
    }) : null);
  }
  await load();
}
