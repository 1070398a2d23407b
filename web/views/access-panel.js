/*
 * views/access-panel.js: the "Access policies" tab of a service ID, user or
 * access group: the subject's policies (GET /v1/policies?iam_id= or
 * access_group_id=, pages through `start`), Assign access (POST /v1/policies,
 * IBM's v1 shape: a service, a resource scope, roles from GET /v2/roles) and
 * Remove (DELETE /v1/policies/{id}).
 */
import {
  append, rememberFocus, ApiError, api, button, checkbox, confirmDialog, dataTable, emptyState, field, formatTime, h, inlineNote, input, loadServices,
  loading, messageOf, notify, openDialog, overflowMenu, pager, radioGroup, select, setChildren, state, tag, textarea, uid,
} from '/console/app.js';

const PAGE_SIZE = 20;

/** Groups of services a policy can name instead of one service (IBM's console offers the same). */
const SERVICE_GROUPS = [
  { value: 'type:service', label: 'All Identity and Access enabled services', attr: { name: 'serviceType', value: 'service' } },
  { value: 'type:platform_service', label: 'All account management services', attr: { name: 'serviceType', value: 'platform_service' } },
  { value: 'group:IAM', label: 'All IAM account management services', attr: { name: 'service_group_id', value: 'IAM' } },
];

function attrsOf(policy) {
  const out = {};
  for (const a of policy.resources?.[0]?.attributes ?? []) out[a.name] = { value: a.value, operator: a.operator };
  return out;
}

/** "Which service" of a policy, in words. */
export function serviceText(policy, services) {
  const a = attrsOf(policy);
  if (a.serviceName) {
    const s = services.find((x) => x.name === a.serviceName.value);
    return s ? s.display_name : a.serviceName.value;
  }
  if (a.serviceType) return a.serviceType.value === 'service' ? 'All Identity and Access enabled services' : 'All account management services';
  if (a.service_group_id) return 'All IAM account management services';
  return 'All resources in the account';
}

/** "Which resources" of a policy, in words. */
export function scopeText(policy) {
  const a = attrsOf(policy);
  const parts = [];
  if (a.resourceGroupId) parts.push(`Resource group ${a.resourceGroupId.value}`);
  if (a.serviceInstance) parts.push(`Instance ${a.serviceInstance.value}`);
  if (a.region) parts.push(`Region ${a.region.value}`);
  if (a.resourceType) parts.push(`Resource type ${a.resourceType.value}`);
  if (a.resource) parts.push(`${a.resource.operator === 'stringMatch' ? 'Resources matching' : 'Resource'} ${a.resource.value}`);
  const known = new Set(['accountId', 'serviceName', 'serviceType', 'service_group_id', 'resourceGroupId', 'serviceInstance', 'region', 'resourceType', 'resource']);
  for (const [k, v] of Object.entries(a)) if (!known.has(k)) parts.push(`${k} ${v.value}`);
  if (policy.resources?.[0]?.tags?.length) parts.push(`Tags ${policy.resources[0].tags.map((t) => `${t.name}:${t.value}`).join(', ')}`);
  return parts.length ? parts.join(' · ') : 'All resources';
}

function roleTags(policy) {
  return h('span', { class: 'tag-list' }, (policy.roles ?? []).map((r) => tag(r.display_name || r.role_id.split(':').pop(), 'blue')));
}

/**
 * Renders the tab into `panel`. subject: {attr:'iam_id'|'access_group_id', value, name, noun}
 * ('service ID', 'user', 'access group'); readOnly: {message} when writes are blocked (locked).
 */
export async function renderAccessPanel(panel, { subject, readOnly = null }) {
  let start = [null];
  let page = 0;
  const list = h('div', { class: 'results' });
  const assign = button('Assign access', { icon: 'add', disabled: !!readOnly, onClick: () => assignAccessDialog(subject).then((p) => { if (p) { start = [null]; page = 0; load(); } }) });
  append(panel, 
    h('div', { class: 'section-header' },
      h('div', {}, h('h2', { class: 'section-title' }, 'Access policies'),
        h('p', { class: 'section-text' }, `What ${subject.name} may do: each policy grants roles on a service and a scope of its resources.`)),
      assign),
    readOnly ? inlineNote('warning', 'Read-only.', readOnly.message) : null,
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
    let data;
    let services;
    try {
      [data, services] = await Promise.all([
        api.get('/v1/policies', { account_id: state.session.account_id, [subject.attr]: subject.value, type: 'access', limit: PAGE_SIZE, start: start[page] ?? undefined }),
        loadServices(),
      ]);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setChildren(list, inlineNote('error', 'The policies could not be loaded.', messageOf(err), { live: true }));
      return;
    }
    const rows = data.policies ?? [];
    const table = dataTable({
      label: `Access policies of ${subject.name}`,
      rowKey: (p) => p.id,
      columns: [
        { key: 'service', label: 'Service', render: (p) => serviceText(p, services) },
        { key: 'scope', label: 'Resources', class: 'col-wide', render: scopeText },
        { key: 'roles', label: 'Roles', render: roleTags },
        { key: 'created_at', label: 'Assigned', render: (p) => h('span', {}, formatTime(p.created_at)) },
        {
          key: 'actions', label: '', class: 'col-actions', render: (p) => overflowMenu(`Actions for the policy on ${serviceText(p, services)}`, [
            { label: 'Remove', danger: true, disabled: !!readOnly, onSelect: () => removePolicy(p, services) },
          ]),
        },
      ],
      rows,
      empty: emptyState(`${subject.name} has no access yet.`,
        readOnly ? readOnly.message : `Assign access to give this ${subject.noun} roles on a service.`,
        readOnly ? null : button('Assign access', { kind: 'tertiary', onClick: () => assign.click() })),
    });
    setChildren(list, table, rows.length || page > 0 ? pager({
      label: 'Policy pages', from: page * PAGE_SIZE + 1, to: page * PAGE_SIZE + rows.length,
      hasPrev: page > 0, hasNext: !!data.next,
      onPrev: () => { page -= 1; load(); },
      onNext: () => { start = start.slice(0, page + 1); start.push(data.next.start ?? new URL(data.next.href).searchParams.get('start')); page += 1; load(); },
    }) : null);
  }

  function removePolicy(p, services) {
    confirmDialog({
      title: 'Remove access policy',
      confirmLabel: 'Remove',
      message: [
        h('p', {}, 'Remove this policy from ', h('strong', {}, subject.name), '?'),
        h('p', {}, `${subject.name} loses the roles `, h('strong', {}, (p.roles ?? []).map((r) => r.display_name || r.role_id).join(', ')),
          ' on ', h('strong', {}, serviceText(p, services)), ` (${scopeText(p)}).`),
      ],
      action: () => api.del(`/v1/policies/${encodeURIComponent(p.id)}`),
    }).then((done) => {
      if (done) {
        notify.success('Access policy removed.', `${subject.name} no longer has these roles.`);
        load();
      }
    });
  }

  await load();
}

/** The Assign access dialog. Resolves the created policy, or null. */
export async function assignAccessDialog(subject) {
  let services;
  try {
    services = await loadServices();
  } catch (err) {
    notify.failure('The services could not be loaded.', err);
    return null;
  }
  const serviceSelect = select([
    { value: '', label: 'Choose a service' },
    { label: 'Groups of services', options: SERVICE_GROUPS.map((g) => ({ value: g.value, label: g.label })) },
    { label: 'Services', options: services.map((s) => ({ value: `svc:${s.name}`, label: `${s.display_name} (${s.name})` })) },
  ], { name: 'service', required: true });

  const scopeBox = h('div', { class: 'scope-box' });
  const rolesBox = h('div', { class: 'roles-box', 'aria-live': 'polite' });
  const description = textarea({ name: 'description', maxlength: 300, rows: 2 });
  let scope = 'all';
  const scopeInputs = {
    resourceGroupId: input({ name: 'resourceGroupId', maxlength: 1000 }),
    serviceInstance: input({ name: 'serviceInstance', maxlength: 1000 }),
    resourceType: input({ name: 'resourceType', maxlength: 1000 }),
    resource: input({ name: 'resource', maxlength: 1000 }),
  };
  const typeListId = uid('types');
  const typeList = h('datalist', { id: typeListId });
  scopeInputs.resourceType.setAttribute('list', typeListId);
  let roleBoxes = [];
  let roleSerial = 0;

  function chosen() {
    const v = serviceSelect.value;
    if (v.startsWith('svc:')) return { kind: 'service', service: services.find((s) => s.name === v.slice(4)) };
    const g = SERVICE_GROUPS.find((x) => x.value === v);
    return g ? { kind: 'group', group: g } : null;
  }

  function renderScope() {
    const c = chosen();
    scopeBox.replaceChildren();
    if (!c) return;
    const options = [{ value: 'all', label: c.kind === 'service' ? `All resources of ${c.service.display_name}` : 'All resources' },
      { value: 'group', label: 'Resources in a resource group' }];
    if (c.kind === 'service') {
      options.push({ value: 'instance', label: 'A service instance' }, { value: 'resource', label: 'A resource type and resource' });
      typeList.replaceChildren(...(c.service.resource_types ?? []).map((t) => h('option', { value: t })));
    }
    if (!options.some((o) => o.value === scope)) scope = 'all';
    const detail = h('div', { class: 'scope-detail' });
    const showDetail = () => {
      detail.replaceChildren();
      if (scope === 'group') detail.append(field('Resource group ID', scopeInputs.resourceGroupId));
      if (scope === 'instance') detail.append(field('Service instance ID', scopeInputs.serviceInstance, { help: 'The instance GUID, as in the instance CRN.' }));
      if (scope === 'resource') {
        detail.append(field('Resource type', scopeInputs.resourceType, { help: (c.service.resource_types ?? []).length ? `Types of this service: ${c.service.resource_types.join(', ')}.` : null }), typeList,
          field('Resource', scopeInputs.resource, { help: 'The resource ID. Use * as a wildcard, for example dev-*.' }));
      }
    };
    scopeBox.append(radioGroup('Resources', uid('scope'), options, scope, { onChange: (v) => { scope = v; showDetail(); } }), detail);
    showDetail();
  }

  async function renderRoles() {
    const c = chosen();
    const serial = ++roleSerial;
    roleBoxes = [];
    if (!c) { setChildren(rolesBox, h('p', { class: 'field-help' }, 'Choose a service to see its roles.')); return; }
    setChildren(rolesBox, loading('Loading roles…'));
    let data;
    try {
      data = await api.get('/v2/roles', { account_id: state.session.account_id, service_name: c.kind === 'service' ? c.service.name : 'alliamserviceroles' });
    } catch (err) {
      if (serial === roleSerial) setChildren(rolesBox, inlineNote('error', 'The roles could not be loaded.', messageOf(err)));
      return;
    }
    if (serial !== roleSerial) return;
    const groups = [
      ['Platform roles', data.system_roles ?? []],
      ['Service roles', data.service_roles ?? []],
      ['Custom roles', data.custom_roles ?? []],
    ].filter(([, list]) => list.length);
    rolesBox.replaceChildren();
    for (const [legend, list] of groups) {
      const set = h('fieldset', { class: 'role-set' }, h('legend', { class: 'field-label' }, legend));
      for (const r of list) {
        const cb = checkbox(r.display_name || r.name, { value: r.crn, name: 'role' }, r.description);
        roleBoxes.push(cb.querySelector('input'));
        set.append(cb);
      }
      rolesBox.append(set);
    }
    if (!groups.length) rolesBox.append(inlineNote('info', 'No roles.', 'This service defines no roles yet.'));
  }

  serviceSelect.addEventListener('change', () => { renderScope(); renderRoles(); });
  renderRoles();

  return new Promise((resolve) => {
    let created = null;
    openDialog({
      title: 'Assign access', label: subject.name, primary: 'Assign', wide: true,
      content: [
        h('p', { class: 'dialog-text' }, `Grant ${subject.name} roles on a service. Access is the union of all policies: add a policy for each service.`),
        field('Service', serviceSelect),
        scopeBox,
        h('div', { class: 'field' }, h('p', { class: 'field-label', id: `${typeListId}-roles` }, 'Roles'), rolesBox),
        field('Description', description, { optional: true }),
      ],
      onSubmit: async ({ setError }) => {
        const c = chosen();
        if (!c) { setError('Choose a service.'); serviceSelect.focus(); return false; }
        const attributes = [{ name: 'accountId', value: state.session.account_id, operator: 'stringEquals' }];
        if (c.kind === 'service') attributes.push({ name: 'serviceName', value: c.service.name, operator: 'stringEquals' });
        else attributes.push({ ...c.group.attr, operator: 'stringEquals' });
        const need = (key, label) => {
          const v = scopeInputs[key].value.trim();
          if (!v) { scopeInputs[key].setAttribute('aria-invalid', 'true'); scopeInputs[key].focus(); throw new Error(`Enter the ${label}.`); }
          scopeInputs[key].removeAttribute('aria-invalid');
          return v;
        };
        if (scope === 'group') attributes.push({ name: 'resourceGroupId', value: need('resourceGroupId', 'resource group ID'), operator: 'stringEquals' });
        if (scope === 'instance') attributes.push({ name: 'serviceInstance', value: need('serviceInstance', 'service instance ID'), operator: 'stringEquals' });
        if (scope === 'resource') {
          attributes.push({ name: 'resourceType', value: need('resourceType', 'resource type'), operator: 'stringEquals' });
          const r = need('resource', 'resource');
          attributes.push({ name: 'resource', value: r, operator: r.includes('*') ? 'stringMatch' : 'stringEquals' });
        }
        const roles = roleBoxes.filter((b) => b.checked).map((b) => ({ role_id: b.value }));
        if (!roles.length) { setError('Choose at least one role.'); roleBoxes[0]?.focus(); return false; }
        const body = {
          type: 'access',
          subjects: [{ attributes: [{ name: subject.attr, value: subject.value }] }],
          roles,
          resources: [{ attributes }],
        };
        if (description.value.trim()) body.description = description.value.trim();
        created = await api.post('/v1/policies', body);
        notify.success('Access assigned.', `${subject.name} now has ${roles.length === 1 ? 'a new role' : `${roles.length} new roles`} on ${c.kind === 'service' ? c.service.display_name : c.group.label}.`);
        return true;
      },
      onClose: () => resolve(created),
    });
  });
}
