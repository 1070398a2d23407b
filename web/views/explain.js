/*
 * views/explain.js: "Explain access": may this subject do this action on this
 * resource, and why? POST /v2/authz/explain answers permitted, the policies
 * (and groups) that granted it, and when denied the nearest policies with
 * what each lacks. Each policy is described (GET /v1/policies/{id}).
 */
import {
  append, ApiError, api, button, dataTable, field, h, inlineNote, input, loadServices, loading, messageOf, pageHeader, roleName,
  select, setChildren, state, tag, uid,
} from '/console/app.js';
import { scopeText, serviceText } from '/console/views/access-panel.js';
import { userName } from '/console/views/users.js';

export async function render(container) {
  append(container, pageHeader({
    crumbs: [{ label: 'Manage' }, { label: 'Access (IAM)' }],
    title: 'Explain access',
    description: 'Check whether a user or service ID may perform an action on a resource, and see which policies decide it.',
  }));
  const formHost = h('div', {}, loading());
  const result = h('section', { class: 'explain-result', 'aria-live': 'polite', 'aria-labelledby': 'explain-result-title' });
  append(container, formHost, result);

  let services = [];
  let users = [];
  let sids = [];
  let groups = [];
  try {
    const [sv, u, s, g] = await Promise.all([
      loadServices(),
      api.get(`/v1/accounts/${state.session.account_id}/users`, { pagesize: 100 }).catch(() => ({ users: [] })),
      api.get('/v1/serviceids', { account_id: state.session.account_id, pagesize: 100, sort: 'name' }).catch(() => ({ serviceids: [] })),
      api.get('/v2/groups', { account_id: state.session.account_id, limit: 100 }).catch(() => ({ groups: [] })),
    ]);
    services = sv;
    users = u.users ?? [];
    sids = s.serviceids ?? [];
    groups = g.groups ?? [];
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    setChildren(formHost, inlineNote('error', 'The form could not be prepared.', messageOf(err)));
    return;
  }

  const subject = select([
    { value: '', label: 'Choose a user or service ID' },
    { label: 'Users', options: users.map((x) => ({ value: x.iam_id, label: `${userName(x)} (${x.login})` })) },
    { label: 'Service IDs', options: sids.map((x) => ({ value: x.iam_id, label: x.name })) },
    { value: '__other', label: 'Another IAM ID…' },
  ], { name: 'subject' });
  const otherId = input({ name: 'subject_iam_id', placeholder: 'iam-ServiceId-… or IBMid-…' });
  const otherBox = h('div', { hidden: true }, field('IAM ID', otherId));
  subject.addEventListener('change', () => { otherBox.hidden = subject.value !== '__other'; if (!otherBox.hidden) otherId.focus(); });

  const actionsId = uid('actions');
  const action = input({ name: 'action', list: actionsId });
  const actionList = h('datalist', { id: actionsId }, services.flatMap((s) => (s.actions ?? []).map((a) => h('option', { value: typeof a === 'string' ? a : a.id }, typeof a === 'string' ? a : (a.display_name || a.id)))));
  const service = select([{ value: '', label: 'The service of the action' }, ...services.map((s) => ({ value: s.name, label: `${s.display_name} (${s.name})` }))], { name: 'serviceName' });
  const resourceType = input({ name: 'resourceType' });
  const resource = input({ name: 'resource' });
  const serviceInstance = input({ name: 'serviceInstance' });
  const resourceGroupId = input({ name: 'resourceGroupId' });
  const note = h('div', { role: 'alert' });

  const form = h('form', { class: 'tile explain-form', novalidate: true },
    h('div', { class: 'field-grid' },
      h('fieldset', { class: 'settings-fieldset' }, h('legend', { class: 'field-label' }, 'Who'), field('Subject', subject), otherBox),
      h('fieldset', { class: 'settings-fieldset' }, h('legend', { class: 'field-label' }, 'Does what'),
        field('Action', action, { help: 'For example iam-identity.serviceid.update or cloud-object-storage.object.get.' }), actionList)),
    h('fieldset', { class: 'settings-fieldset' }, h('legend', { class: 'field-label' }, 'On which resource'),
      h('div', { class: 'field-grid' },
        field('Service', service, { help: 'Empty: the service the action belongs to.' }),
        field('Resource type', resourceType, { optional: true, help: 'For example serviceid.' }),
        field('Resource', resource, { optional: true, help: 'For example ServiceId-….' }),
        field('Service instance', serviceInstance, { optional: true }),
        field('Resource group ID', resourceGroupId, { optional: true }))),
    note,
    h('div', { class: 'button-row' }, button('Explain', { type: 'submit', icon: 'arrow-right' })));
  setChildren(formHost, form);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setChildren(note);
    const iamId = subject.value === '__other' ? otherId.value.trim() : subject.value;
    if (!iamId) { setChildren(note, inlineNote('error', 'Error:', 'Choose the subject.')); (subject.value === '__other' ? otherId : subject).focus(); return; }
    const act = action.value.trim();
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(act)) { setChildren(note, inlineNote('error', 'Error:', 'Enter an action such as iam-identity.serviceid.get.')); action.focus(); return; }
    const attributes = { accountId: state.session.account_id, serviceName: service.value || act.split('.')[0] };
    for (const [k, el] of [['resourceType', resourceType], ['resource', resource], ['serviceInstance', serviceInstance], ['resourceGroupId', resourceGroupId]]) {
      if (el.value.trim()) attributes[k] = el.value.trim();
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    setChildren(result, loading('Asking the decision engine…'));
    try {
      const answer = await api.post('/v2/authz/explain', { subject: { attributes: { id: iamId } }, action: act, resource: { attributes } });
      await showResult(answer, attributes);
    } catch (err) {
      setChildren(result);
      if (!(err instanceof ApiError && err.status === 401)) setChildren(note, inlineNote('error', 'The access could not be explained.', messageOf(err)));
    } finally {
      btn.disabled = false;
    }
  });

  function subjectName(iamId) {
    const u = users.find((x) => x.iam_id === iamId);
    if (u) return userName(u);
    const s = sids.find((x) => x.iam_id === iamId);
    return s ? s.name : iamId;
  }
  function groupName(id) {
    return groups.find((g) => g.id === id)?.name ?? id;
  }

  async function describe(ids) {
    const out = new Map();
    await Promise.all([...new Set(ids)].map(async (id) => {
      try { out.set(id, await api.get(`/v1/policies/${encodeURIComponent(id)}`)); } catch { /* shown by id */ }
    }));
    return out;
  }

  function policyCell(id, policies) {
    const p = policies.get(id);
    if (!p) return h('code', {}, id);
    return h('span', { class: 'cell-stack' },
      h('span', { class: 'cell-strong' }, `${serviceText(p, services)}: ${scopeText(p)}`),
      h('span', { class: 'cell-sub' }, 'Policy ', h('code', {}, id)));
  }

  async function showResult(answer, attributes) {
    const policies = await describe([...(answer.granted_by ?? []).map((g) => g.policy_id), ...(answer.near_misses ?? []).map((n) => n.policy_id)]);
    const who = subjectName(answer.subject?.iam_id);
    const verdict = answer.permitted
      ? h('div', { class: 'verdict verdict-permit' }, h('span', { class: 'verdict-icon icon-success', 'aria-hidden': 'true' }), h('div', {},
        h('h2', { class: 'verdict-title', id: 'explain-result-title' }, 'Permitted'),
        h('p', {}, h('strong', {}, who), ' may perform ', h('code', {}, answer.action), ' on ', resourceWords(attributes), '.')))
      : h('div', { class: 'verdict verdict-deny' }, h('span', { class: 'verdict-icon icon-error', 'aria-hidden': 'true' }), h('div', {},
        h('h2', { class: 'verdict-title', id: 'explain-result-title' }, 'Not permitted'),
        h('p', {}, h('strong', {}, who), ' may not perform ', h('code', {}, answer.action), ' on ', resourceWords(attributes), '.')));
    const groupsLine = h('p', { class: 'section-text' }, 'Groups considered: ',
      (answer.subject?.groups ?? []).length ? (answer.subject.groups).map((g, i) => [i ? ', ' : '', h('a', { href: `/console/groups/${encodeURIComponent(g)}` }, groupName(g))]) : 'none');
    const granted = (answer.granted_by ?? []).length
      ? [h('h3', { class: 'subsection-title' }, 'Granted by'), dataTable({
        label: 'Policies that grant the action',
        columns: [
          { key: 'policy', label: 'Policy', class: 'col-wide', render: (g) => policyCell(g.policy_id, policies) },
          { key: 'via', label: 'Through', render: (g) => (g.via_group_id ? h('span', {}, 'Group ', h('a', { href: `/console/groups/${encodeURIComponent(g.via_group_id)}` }, groupName(g.via_group_id))) : 'Direct policy') },
          { key: 'roles', label: 'Roles', render: (g) => h('span', { class: 'tag-list' }, (g.roles ?? []).map((r) => tag(roleName(r), 'blue'))) },
        ],
        rows: answer.granted_by,
      })]
      : [];
    const near = (answer.near_misses ?? []).length
      ? [h('h3', { class: 'subsection-title' }, answer.permitted ? 'Other policies that came close' : 'Nearest policies'), dataTable({
        label: 'Policies that almost grant the action',
        columns: [
          { key: 'policy', label: 'Policy', class: 'col-wide', render: (n) => policyCell(n.policy_id, policies) },
          { key: 'missing', label: 'What is missing', class: 'col-wide', render: (n) => h('ul', { class: 'plain-list' }, (n.missing ?? []).map((m) => h('li', {}, m))) },
        ],
        rows: answer.near_misses,
      })]
      : [];
    const none = !answer.permitted && !near.length
      ? inlineNote('info', 'No policy comes close.', `${who} has no policy on this service. Assign access to grant a role that includes ${answer.action}.`)
      : null;
    setChildren(result, h('div', { class: 'tile' }, verdict, groupsLine, granted, near, none));
  }
}

function resourceWords(attributes) {
  const parts = [attributes.serviceName];
  if (attributes.resourceType) parts.push(attributes.resourceType);
  if (attributes.resource) parts.push(attributes.resource);
  if (attributes.serviceInstance) parts.push(`instance ${attributes.serviceInstance}`);
  if (attributes.resourceGroupId) parts.push(`resource group ${attributes.resourceGroupId}`);
  return h('code', {}, parts.join(' / '));
}
