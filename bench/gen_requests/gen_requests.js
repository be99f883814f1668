#!/usr/bin/env node
// Generates realistic, varied, schema-valid requests (comity.request/v1), one JSON per line,
// for `comity screen --batch` and the Cedar peer (bench/screen_e2e.sh).
//
//   node bench/gen_requests/gen_requests.js COUNT [SEED] > requests.jsonl
//
// Deterministic for a seed. The mix: 1-3 offences and measures, mostly complete requests from
// the fictional states XA-XZ, with a realistic tail of problems (missing facts, bulk
// requests, speech offences, emergencies, protected persons), so that every outcome occurs.
'use strict';

const count = Number(process.argv[2] || 100000);
const seed = Number(process.argv[3] || 42);
if (!Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: gen_requests.js COUNT [SEED]\n');
  process.exit(2);
}

// mulberry32: small, fast, deterministic.
let state = seed >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const chance = (p) => rand() < p;
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (a) => a[Math.floor(rand() * a.length)];
const subset = (a, p) => a.filter(() => chance(p));

const STATES = ['XA', 'XB', 'XC', 'XD', 'XF', 'XZ'];
const CONVENTION = ['illegal_access', 'illegal_interception', 'data_interference',
  'system_interference', 'misuse_of_devices', 'computer_forgery', 'computer_fraud', 'csam',
  'grooming', 'ncii', 'laundering'];
const OTHER_CATEGORIES = ['terrorism', 'drug_trafficking', 'trafficking_in_persons',
  'migrant_smuggling', 'firearms_trafficking', 'organized_crime', 'homicide', 'kidnapping',
  'sexual_offence', 'extortion', 'fraud', 'corruption', 'tax_offence',
  'cultural_property_trafficking', 'espionage', 'treason'];
const SPEECH = ['defamation', 'insult', 'false_information', 'extremism', 'blasphemy',
  'unlawful_assembly', 'separatism', 'lgbt_conduct'];
const MEASURES = ['preserve', 'disclose_preserved_traffic', 'produce', 'search_seize',
  'realtime_traffic', 'intercept', 'emergency_disclosure', 'surrender', 'testimony',
  'service_of_documents'];
const COMMON_MEASURES = ['preserve', 'produce', 'produce', 'produce', 'search_seize',
  'disclose_preserved_traffic'];
const SELECTOR_KINDS = ['account', 'email', 'phone', 'ip', 'domain', 'url', 'device', 'payment',
  'wallet', 'person', 'other'];
const STATUSES = ['journalist', 'human_rights_defender', 'political_opposition', 'activist',
  'lawyer', 'religious_leader', 'trade_unionist', 'refugee', 'asylum_seeker', 'minor',
  'diplomat', 'member_of_parliament'];
const ASSURANCES = ['use_limited_to_stated_proceedings', 'no_onward_transfer_without_consent',
  'no_death_penalty', 'no_torture', 'fair_trial', 'delete_after_proceedings'];
const PROVISIONS = [
  'Criminal Code s. 301 (computer fraud)', 'Penal Code art. 207.3 (false news)',
  'Livestock Act s. 12 (unregistered sale of cattle)', 'УК ст. 280.3: дискредитация',
  'Code pénal art. 323-1', 'Código Penal art. 197 bis', 'Criminal Code s. 162.1',
];
const FACTS = [
  'Between March and June 2026 a phishing kit hosted on a server in the requested state ' +
    'collected bank credentials; EUR 1.2 million was transferred out of 214 accounts.',
  'A ransomware group encrypted the systems of a regional hospital and demanded payment in ' +
    'a cryptocurrency; the negotiation account is hosted in the requested state.',
  'Intimate images of the victim were posted on a forum operated from the requested state.',
];

function pad(n) { return String(n).padStart(2, '0'); }
function date(days) {
  const d = new Date(Date.UTC(2020, 0, 1) + days * 86400000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function offence() {
  const k = rand();
  const category = k < 0.55 ? pick(CONVENTION) : k < 0.85 ? pick(OTHER_CATEGORIES)
    : k < 0.93 ? pick(SPEECH) : 'other';
  const o = { category, national_provision: pick(PROVISIONS) };
  if (chance(0.95)) {
    o.max_penalty_years = CONVENTION.includes(category) ? pick([1, 2, 3, 5, 8, 10])
      : pick([3, 4, 5, 8, 10, 12, 15, 20, 100]);
  }
  if (chance(0.04)) o.death_penalty_possible = true;
  if (chance(0.7)) o.description = 'Conduct described in the summary of facts.';
  return o;
}

function measure() {
  const type = chance(0.8) ? pick(COMMON_MEASURES) : pick(MEASURES);
  const m = { type };
  let cats = subset(['subscriber', 'traffic', 'content'], 0.5);
  if (cats.length === 0 && chance(0.95)) cats = ['subscriber'];
  if (cats.length > 0 || chance(0.1)) m.data_categories = cats;
  if (!['surrender', 'testimony', 'service_of_documents'].includes(type) && chance(0.95)) {
    m.selectors = [];
    for (let i = int(1, 2); i > 0; --i) {
      const s = { kind: pick(SELECTOR_KINDS), value: `sel-${int(1, 999999)}@example.net` };
      if (chance(0.5)) s.provider = 'ExampleMail Ltd';
      m.selectors.push(s);
    }
  }
  if (chance(0.02)) m.all_users = true;
  if (['produce', 'search_seize', 'preserve', 'disclose_preserved_traffic'].includes(type) &&
      chance(0.7)) {
    const from = int(1500, 2300);
    m.period = { from: date(from), to: date(from + int(0, 500)) };
  }
  if (['realtime_traffic', 'intercept', 'preserve'].includes(type) && chance(0.9)) {
    m.duration_days = int(10, 120);
  }
  if (chance(0.8)) m.justification = 'The account is linked to the offence by the facts.';
  return m;
}

function person(requesting) {
  const p = { role: pick(['suspect', 'accused', 'victim', 'witness', 'account_holder']) };
  if (chance(0.5)) p.name = 'A. Person';
  p.nationalities = chance(0.7) ? [requesting] : [pick(STATES)];
  if (chance(0.7)) p.residence = pick(STATES);
  if (chance(0.08)) p.status = [pick(STATUSES)];
  return p;
}

const out = [];
for (let n = 1; n <= count; ++n) {
  const requesting = pick(STATES);
  let requested = pick(STATES);
  while (requested === requesting) requested = pick(STATES);
  const urgency = chance(0.75) ? 'routine' : chance(0.7) ? 'urgent' : 'emergency';
  const r = {
    schema: 'comity.request/v1',
    id: `REQ-${seed}-${n}`,
    created: `2026-${pad(int(1, 12))}-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}:00Z`,
    requesting_state: requesting,
    requested_state: requested,
    requesting_authority: { name: 'Ministry of Justice, International Cooperation Unit',
      kind: 'central_authority' },
  };
  if (chance(0.95)) {
    r.proceeding = { kind: 'investigation', reference: `INV-${int(1, 9999)}`,
      conducting_authority: 'Public Prosecutor, Cybercrime Division' };
  }
  r.offences = [];
  for (let i = int(1, 3) - (chance(0.5) ? 1 : 0); i >= 0; --i) r.offences.push(offence());
  if (r.offences.length > 3) r.offences.length = 3;
  if (chance(0.96)) r.facts = pick(FACTS);
  if (chance(0.95)) r.purpose = 'Identify the operator of the account and link it to the offence.';
  r.urgency = urgency;
  if (urgency === 'emergency' && chance(0.85)) {
    r.emergency = { risk: pick(['life', 'physical_safety', 'child_safety']), imminent: chance(0.85) };
  }
  r.measures = [];
  for (let i = int(1, 3) - (chance(0.5) ? 1 : 0); i >= 0; --i) r.measures.push(measure());
  if (r.measures.length > 3) r.measures.length = 3;
  r.persons = [];
  for (let i = int(0, 2); i > 0; --i) r.persons.push(person(requesting));
  if (chance(0.9)) {
    r.domestic_authorization = { authority_kind: chance(0.85) ? pick(['court', 'judge']) :
      pick(['prosecutor', 'police', 'independent_authority']), reference: `Order ${int(1, 99)}/2026` };
  }
  if (chance(0.1)) r.confidentiality = { requested: true, no_user_notification: chance(0.5) };
  r.assurances = subset(ASSURANCES, 0.4);
  r.language = 'en';
  out.push(JSON.stringify(r));
  if (out.length === 1000) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
}
if (out.length) process.stdout.write(out.join('\n') + '\n');
