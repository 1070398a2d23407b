/*
 * views/groups.js: access groups (GET /v2/groups, search, sort, pages by
 * offset) and the Create dialog (POST /v2/groups?account_id=).
 */
import {
  append, rememberFocus, ApiError, api, button, dataTable, emptyState, field, h, inlineNote, input, loading, messageOf, navigate, notify,
  openDialog, pageHeader, pager, setChildren, state, tag, textarea, timeCell,
} from '/console/app.js';

const PAGE_SIZE = 20;
export const PUBLIC_GROUP = 'AccessGroupId-PublicAccess';

function createGroupDialog() {
  const name = input({ name: 'name', maxlength: 100 });
  const description = textarea({ name: 'description', maxlength: 250 });
  return new Promise((resolve) => {
    let created = null;
    openDialog({
      title: 'Create access group', label: 'Access groups', primary: 'Create',
      content: [
        h('p', { class: 'dialog-text' }, 'Group users and service IDs that need the same access, then assign access to the group once.'),
        field('Name', name, { help: 'Up to 100 characters, unique in the account.' }), field('Description', description, { optional: true }),
      ],
      onSubmit: async ({ setError }) => {
        if (!name.value.trim()) { name.setAttribute('aria-invalid', 'true'); setError('Enter a name for the group.'); name.focus(); return false; }
        const body = { name: name.value.trim() };
        if (description.value.trim()) body.description = description.value.trim();
        created = await api.post(`/v2/groups?account_id=${encodeURIComponent(state.session.account_id)}`, body);
        return true;
      },
      onClose: () => resolve(created),
    });
  });
}

export async function render(container) {
  let offset = 0;
  let search = '';
  let sort = { key: 'name', order: 'asc' };
  const results = h('div', { class: 'results' });
  const createBtn = button('Create', { icon: 'add', onClick: async () => {
    const g = await createGroupDialog();
    if (g) {
      notify.success(`Access group "${g.name}" created.`, 'Next: add members and assign access.');
      navigate(`/console/groups/${encodeURIComponent(g.id)}/members`);
    }
  } });
  const searchBox = input({ type: 'search', name: 'search', placeholder: 'Search by name or description', 'aria-label': 'Search access groups', class: 'input search-input' });
  append(container, pageHeader({
    crumbs: [{ label: 'Manage' }, { label: 'Access (IAM)' }],
    title: 'Access groups',
    description: 'Members of a group get all of its access policies. Every identity is in the Public Access group.',
  }), h('div', { class: 'toolbar' }, h('div', { class: 'search' }, h('span', { class: 'search-icon icon-search', 'aria-hidden': 'true' }), searchBox), createBtn), results);

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
      data = await api.get('/v2/groups', {
        account_id: state.session.account_id, limit: PAGE_SIZE, offset, search: search || undefined, sort: `${sort.order === 'desc' ? '-' : ''}${sort.key}`,
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setChildren(results, inlineNote('error', 'The access groups could not be loaded.', messageOf(err), { live: true }));
      return;
    }
    const rows = data.groups ?? [];
    setChildren(results, dataTable({
      label: 'Access groups',
      sort,
      onSort: (key) => { sort = sort.key === key ? { key, order: sort.order === 'asc' ? 'desc' : 'asc' } : { key, order: 'asc' }; offset = 0; load(); },
      columns: [
        { key: 'name', label: 'Name', sortable: true, render: (g) => h('span', {}, h('a', { href: `/console/groups/${encodeURIComponent(g.id)}` }, g.name), g.id === PUBLIC_GROUP ? [' ', tag('Everyone', 'gray')] : null) },
        { key: 'description', label: 'Description', sortable: true, class: 'col-wide', render: (g) => g.description || null },
        { key: 'created_at', label: 'Created', sortable: true, render: (g) => timeCell(g.created_at) },
      ],
      rows,
      empty: search
        ? emptyState(`No access group matches "${search}".`, 'Check the spelling or clear the search.')
        : emptyState('No access groups yet.', 'Create a group for each set of people or applications that need the same access.', button('Create an access group', { kind: 'tertiary', onClick: () => createBtn.click() })),
    }), rows.length || offset > 0 ? pager({
      label: 'Access group pages', from: offset + 1, to: offset + rows.length, total: data.total_count,
      hasPrev: offset > 0, hasNext: !!data.next,
      onPrev: () => { offset = Math.max(0, offset - PAGE_SIZE); load(); },
      onNext: () => { offset += PAGE_SIZE; load(); },
    }) : null);
  }

  let timer = null;
  searchBox.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { search = searchBox.value.trim(); offset = 0; load(); }, 300); });
  searchBox.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); search = searchBox.value.trim(); offset = 0; load(); } });
  await load();
}
