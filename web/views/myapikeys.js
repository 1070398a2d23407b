/*
 * views/myapikeys.js: "My API keys": the signed-in identity's own keys, with
 * the same list, create-once dialog and actions as a service ID's keys.
 */
import { append, h, pageHeader, state } from '/console/app.js';
import { renderKeysPanel } from '/console/views/keys-panel.js';

export async function render(container) {
  const s = state.session;
  const name = s.name || s.login || s.iam_id;
  const panel = h('div', { class: 'panel-plain' });
  append(container, pageHeader({
    crumbs: [{ label: 'Manage' }, { label: 'Access (IAM)' }],
    title: 'My API keys',
    description: 'API keys that authenticate as you. A key has all of your access: keep it secret, give it an expiry, and delete it when it is no longer used.',
  }), panel);
  await renderKeysPanel(panel, {
    owner: { iamId: s.iam_id, name, noun: 'you' },
    heading: 'Your API keys',
    intro: `Keys of ${name}. Use one with the CLI, an SDK or POST /identity/token.`,
  });
}
