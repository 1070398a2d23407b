// bench/authz-setup.mjs: the fixture of the decision benchmarks (bench/authz.sh, bench/cluster.sh),
// made through the API with the bootstrap key (HTTP Basic, so no token churn):
//   node bench/authz-setup.mjs URL BOOTSTRAP-KEY-FILE OUT-DIR SUBJECTS POLICIES-PER-SUBJECT
// creates a PDP-client service ID with an API key, registers a service whose
// pdp_clients is it, creates SUBJECTS service IDs with POLICIES-PER-SUBJECT
// policies each on that service, and writes OUT-DIR/subjects.txt (their
// iam_ids) and OUT-DIR/env.sh (svc, account, pdp_key, policies,
// setup_seconds, first_subject).
import fs from 'node:fs';
const [url, bootFile, outDir, nSubjects, perSubject] = process.argv.slice(2);
const boot = JSON.parse(fs.readFileSync(bootFile, 'utf8'));
const account = boot.account_id;
const auth = 'Basic ' + Buffer.from(`apikey:${boot.apikey}`).toString('base64');
const svc = `bench-${Math.random().toString(16).slice(2, 8)}`;

async function call(method, path, body, want) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url + path, {
      method, headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (want.includes(res.status)) return text ? JSON.parse(text) : null;
    if ((res.status === 429 || res.status >= 500) && attempt < 3) { await new Promise((r) => setTimeout(r, 200)); continue; }
    throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  }
}
async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    for (;;) { const i = next++; if (i >= n) return; out[i] = await fn(i); }
  }));
  return out;
}

const pdp = await call('POST', '/v1/serviceids', { account_id: account, name: 'bench-pdp', apikey: { name: 'bench-pdp-key' } }, [201]);
const A = (noun, verb) => `${svc}.${noun}.${verb}`;
await call('PUT', `/v1/services/${svc}`, {
  name: svc, display_name: 'Benchmark service', service_type: 'service', pdp_clients: [pdp.iam_id],
  actions: [['thing', 'read'], ['thing', 'write'], ['thing', 'delete'], ['instance', 'view']].map(([n, v]) => ({ id: A(n, v), display_name: `${n} ${v}` })),
  roles: {
    Reader: [A('thing', 'read')], Writer: [A('thing', 'read'), A('thing', 'write')],
    Manager: [A('thing', 'read'), A('thing', 'write'), A('thing', 'delete')],
    Viewer: [A('instance', 'view')], Operator: [A('instance', 'view')], Editor: [A('instance', 'view')], Administrator: [A('instance', 'view')],
  },
  resource_types: ['thing', 'bucket'],
}, [200, 201]);

const t0 = Date.now();
const sids = await pool(Number(nSubjects), 16, (i) => call('POST', '/v1/serviceids', { account_id: account, name: `bench-subject-${i}` }, [201]));
const roles = ['crn:v1:bluemix:public:iam::::serviceRole:Reader', 'crn:v1:bluemix:public:iam::::serviceRole:Writer'];
const per = Number(perSubject);
const total = sids.length * per;
await pool(total, 16, (k) => {
  const s = sids[Math.floor(k / per)];
  const j = k % per;
  const attributes = [{ name: 'accountId', value: account }, { name: 'serviceName', value: svc }];
  if (j < 10) attributes.push({ name: 'serviceInstance', value: `inst-${j}` });
  else attributes.push({ name: 'resourceType', value: 'bucket' }, { name: 'resource', value: `dev-${j}-*`, operator: 'stringMatch' });
  return call('POST', '/v1/policies', {
    type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: s.iam_id }] }],
    roles: [{ role_id: roles[j % 2] }], resources: [{ attributes }],
  }, [201]);
});
const secs = (Date.now() - t0) / 1000;
fs.writeFileSync(`${outDir}/subjects.txt`, sids.map((s) => s.iam_id).join('\n') + '\n');
fs.writeFileSync(`${outDir}/env.sh`, [
  `svc=${svc}`, `account=${account}`, `pdp_key=${pdp.apikey.apikey}`, `policies=${total}`,
  `setup_seconds=${secs.toFixed(1)}`, `first_subject=${sids[0].iam_id}`,
].join('\n') + '\n');
