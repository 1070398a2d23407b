/*
 * views/serviceids.js: the Service IDs list (search by name, sort, pages of
 * 20 through the Identity API's page tokens) and the Create dialog.
 * GET/POST /v1/serviceids.
 */
import {
  append, rememberFocus, api, button, dataTable, emptyState, field, h, input, loading, navigate, notify, pageHeader, pageTokenOf,
  pager, setChildren, state, tag, textarea, timeCell, inlineNote, messageOf, ApiError, invalidate, openDialog,
} from '/console/app.js';

const PAGE_SIZE = 20;

export function statusTags(sid) {
  return sid.locked ? tag('Locked', 'purple') : tag('Unlocked', 'gray');
}

/** The Create service ID dialog; resolves the new service ID or null. */
export function createServiceIdDialog() {
  const name = input({ name: 'name', required: true, maxlength: 1000 });
  const description = textarea({ name: 'description', maxlength: 1000 });
  return new Promise((resolve) => {
    let created = null;
    openDialog({
      title: 'Create service ID', label: 'Service IDs', primary: 'Create',
      content: [
        h('p', { class: 'dialog-text' }, 'A service ID identifies an application or service. After it is created, assign it access and give it an API key.'),
        field('Name', name), field('Description', description, { optional: true }),
      ],
      onSubmit: async ({ setError }) => {
        const n = name.value.trim();
        if (!n) {
          name.setAttribute('aria-invalid', 'true');
          setError('Enter a name for the service ID.');
          name.focus();
          return false;
        }
        const body = { account_id: state.session.account_id, name: n };
        if (description.value.trim()) body.description = description.value.trim();
        created = await api.post('/v1/serviceids', body);
        invalidate('serviceids');
        return true;
      },
      onClose: () => resolve(created),
    });
  });
}

export async function render(container) {
  let search = '';
  let sort = { key: 'name', order: 'asc' };
  let tokens = [null]; // page tokens: tokens[i] opens page i
  let pageIndex = 0;
  let lastPage = null;

  const createBtn = button('Create', { icon: 'add', onClick: async () => {
    const sid = await createServiceIdDialog();
    if (sid) {
      notify.success(`Service ID "${sid.name}" created.`, 'Next: assign access and create an API key.');
      navigate(`/console/serviceids/${encodeURIComponent(sid.id)}`);
    }
  } });

  const searchBox = input({ type: 'search', name: 'search', placeholder: 'Search by name', 'aria-label': 'Search service IDs by name', class: 'input search-input' });
  const results = h('div', { class: 'results' });
  const count = h('p', { class: 'visually-hidden', role: 'status' });

  append(container, 
    pageHeader({
      crumbs: [{ label: 'Manage' }, { label: 'Access (IAM)' }],
      title: 'Service IDs',
      description: 'Service IDs are identities for applications and services. Give a service ID access policies and API keys so an application can authenticate without a user.',
    }),
    h('div', { class: 'toolbar' }, h('div', { class: 'search' }, h('span', { class: 'search-icon icon-search', 'aria-hidden': 'true' }), searchBox), createBtn),
    count, results);

  async function load() {

    const restore = rememberFocus(results);

    try {

      await loadInner();

    } finally {

      restore();

    }

  }


  let loadSerial = 0;
  async function loadInner() {
    const serial = ++loadSerial;
    setChildren(results, loading());
    const query = {
      account_id: state.session.account_id, pagesize: PAGE_SIZE, sort: sort.key, order: sort.order,
    };
    if (search) query.filter = `name co "${search.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    if (tokens[pageIndex]) query.pagetoken = tokens[pageIndex];
    let data;
    try {
      data = await api.get('/v1/serviceids', query);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setChildren(results, inlineNote('error', 'The service IDs could not be loaded.', messageOf(err), { live: true }));
      return;
    }
    if (serial !== loadSerial) return; // a newer search or page is under way
    lastPage = data;
    const rows = data.serviceids ?? [];
    const offset = data.offset ?? pageIndex * PAGE_SIZE;
    count.textContent = rows.length ? `Showing service IDs ${offset + 1} to ${offset + rows.length}.` : 'No service IDs found.';
    const empty = search
      ? emptyState(`No service ID name contains "${search}".`, 'Check the spelling or clear the search.', button('Clear search', { kind: 'tertiary', onClick: () => { searchBox.value = ''; search = ''; reset(); } }))
      : emptyState('No service IDs yet.', 'Create a service ID for each application that calls an API. Then assign it access and give it an API key.', button('Create a service ID', { onClick: () => createBtn.click() }));
    setChildren(results,
      dataTable({
        label: 'Service IDs',
        columns: [
          { key: 'name', label: 'Name', sortable: true, render: (s) => h('a', { href: `/console/serviceids/${encodeURIComponent(s.id)}` }, s.name) },
          { key: 'description', label: 'Description', sortable: true, class: 'col-wide', render: (s) => s.description || null },
          { key: 'status', label: 'Status', render: statusTags },
          { key: 'created_at', label: 'Created', sortable: true, render: (s) => timeCell(s.created_at) },
          { key: 'modified_at', label: 'Last modified', sortable: true, render: (s) => timeCell(s.modified_at) },
        ],
        rows, sort, empty,
        onSort: (key) => {
          sort = sort.key === key ? { key, order: sort.order === 'asc' ? 'desc' : 'asc' } : { key, order: 'asc' };
          reset({ focusSort: key });
        },
      }),
      rows.length || pageIndex > 0 ? pager({
        label: 'Service ID pages', from: offset + 1, to: offset + rows.length,
        hasPrev: pageIndex > 0, hasNext: !!data.next,
        onPrev: () => { pageIndex -= 1; load().then(() => focusPager('Previous')); },
        onNext: () => {
          tokens = tokens.slice(0, pageIndex + 1);
          tokens.push(pageTokenOf(lastPage.next));
          pageIndex += 1;
          load().then(() => focusPager('Next'));
        },
      }) : null);
  }

  function focusPager(which) {
    const b = [...results.querySelectorAll('.pager button')].find((x) => x.textContent.startsWith(which) && !x.disabled)
      || results.querySelector('.pager button:not([disabled])');
    b?.focus();
  }

  function reset({ focusSort } = {}) {
    tokens = [null];
    pageIndex = 0;
    load().then(() => {
      if (focusSort) {
        const th = [...results.querySelectorAll('th .sort-button')].find((b) => b.closest('th').getAttribute('aria-sort'));
        th?.focus();
      }
    });
  }

  let timer = null;
  searchBox.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { search = searchBox.value.trim(); reset(); }, 300);
  });
  searchBox.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); search = searchBox.value.trim(); reset(); }
  });

  await load();
}
