#!/usr/bin/env node
// Peer benchmark: Cedar (@cedar-policy/cedar-wasm) screening the same requests with a 32-rule
// treaty-like policy (policies.cedar), parsed once. Measures, like `comity screen --batch`,
// the whole path: parse the JSON line, build the Cedar request (principal, action, resource,
// context from the request and the two profiles), authorize, and serialize the answer.
//
//   node bench/cedar/cedar_bench.js REQUESTS.jsonl PROFILES_DIR [LIMIT]
//
// Prints one line: "cedar: N requests in S s = R requests/s wall, C requests/s of CPU
// (allow A, deny D)".
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const cedar = require('@cedar-policy/cedar-wasm/nodejs');

const [requestsFile, profilesDir, limitArg] = process.argv.slice(2);
if (!requestsFile || !profilesDir) {
  process.stderr.write('usage: cedar_bench.js REQUESTS.jsonl PROFILES_DIR [LIMIT]\n');
  process.exit(2);
}
const limit = Number(limitArg || Infinity);

const CONVENTION = new Set(['illegal_access', 'illegal_interception', 'data_interference',
  'system_interference', 'misuse_of_devices', 'computer_forgery', 'computer_fraud', 'csam',
  'grooming', 'ncii', 'laundering']);
const SPEECH_WORDS = ['false news', 'false information', 'insult', 'discredit', 'extremis',
  'unsanctioned', 'unauthorised', 'fausses nouvelles', 'noticias falsas', 'ложн', 'дискредит'];

// Profiles, loaded once and reduced to what the policies read.
const profiles = {};
for (const f of fs.readdirSync(profilesDir)) {
  if (!f.endsWith('.json')) continue;
  const p = JSON.parse(fs.readFileSync(path.join(profilesDir, f), 'utf8'));
  const pol = p.policy;
  profiles[p.code] = {
    raw: p,
    ctx: {
      party: p.uncc.status === 'party',
      death_penalty: p.death_penalty,
      dual_criminality: pol.dual_criminality,
      interception_min_x10: Math.round(pol.interception_min_penalty_years * 10),
      max_interception_days: pol.max_interception_days,
      max_stored_period_days: pol.max_stored_period_days || 1000000,
      independent_authorization_required: pol.independent_authorization_required,
      speech_refuse: pol.speech_offences === 'refuse',
      refugee_protection: pol.refugee_protection,
      protected_status_review: pol.protected_status_review || [],
      death_penalty_assurance_required: pol.death_penalty_assurance_required !== false,
      enhanced_scrutiny: pol.enhanced_scrutiny || [],
      suspended: pol.suspended || [],
      criminalizes: Object.keys(p.criminalizes),
    },
  };
}

const policies = fs.readFileSync(path.join(__dirname, 'policies.cedar'), 'utf8');
const parsed = cedar.preparsePolicySet('treaty', { staticPolicies: policies });
if (parsed.type !== 'success') {
  process.stderr.write('cedar: policies do not parse: ' + JSON.stringify(parsed.errors) + '\n');
  process.exit(1);
}

function days(from, to) { return (Date.parse(to) - Date.parse(from)) / 86400000; }

// The Cedar request for one comity request: flattened facts in the context.
function context(r, requesting, requested) {
  const named = r.offences.filter((o) => o.category !== 'other');
  const types = r.measures.map((m) => m.type);
  let minPenaltyThere = 1000;
  for (const o of named) {
    const c = requested.raw.criminalizes[o.category];
    minPenaltyThere = Math.min(minPenaltyThere, c ? Math.round(c.max_penalty_years * 10) : 0);
  }
  let minNonConvention = 1000;
  let nonConventionNoPenalty = false;
  for (const o of r.offences) {
    if (CONVENTION.has(o.category)) continue;
    if (o.max_penalty_years === undefined) nonConventionNoPenalty = true;
    else minNonConvention = Math.min(minNonConvention, Math.round(o.max_penalty_years * 10));
  }
  const text = r.offences.filter((o) => o.category === 'other')
    .map((o) => (o.national_provision + ' ' + (o.description || '')).toLowerCase()).join(' ');
  const statuses = [];
  let refugeeOfRequesting = false;
  for (const p of r.persons || []) {
    for (const s of p.status || []) statuses.push(s);
    if ((p.status || []).some((s) => s === 'refugee' || s === 'asylum_seeker') &&
        (p.nationalities || []).includes(r.requesting_state)) refugeeOfRequesting = true;
  }
  let maxRealtime = 0;
  let maxPeriod = 0;
  const dataCategories = [];
  let missingSelectors = false;
  let storedWithoutCategories = false;
  let realtimeWithoutDuration = false;
  let allUsers = false;
  let preserveShort = false;
  for (const m of r.measures) {
    for (const c of m.data_categories || []) dataCategories.push(c);
    if (!['surrender', 'testimony', 'service_of_documents'].includes(m.type) &&
        !(m.selectors || []).length && !m.all_users) missingSelectors = true;
    if (['produce', 'search_seize', 'preserve'].includes(m.type) && !(m.data_categories || []).length) {
      storedWithoutCategories = true;
    }
    if (['realtime_traffic', 'intercept'].includes(m.type)) {
      if (m.duration_days === undefined) realtimeWithoutDuration = true;
      else maxRealtime = Math.max(maxRealtime, m.duration_days);
    }
    if (m.period) maxPeriod = Math.max(maxPeriod, days(m.period.from, m.period.to));
    if (m.all_users) allUsers = true;
    if (m.type === 'preserve' && m.duration_days !== undefined && m.duration_days < 60) {
      preserveShort = true;
    }
  }
  const sharedBasis = (requesting.raw.other_legal_bases || [])
    .some((b) => (requested.raw.other_legal_bases || []).includes(b));
  return {
    facts_blank: !r.facts || r.facts.trim() === '',
    has_proceeding: r.proceeding !== undefined,
    purpose_blank: !r.purpose || r.purpose.trim() === '',
    measure_types: types,
    data_categories: dataCategories,
    offence_categories: r.offences.map((o) => o.category),
    named_categories: named.map((o) => o.category),
    missing_selectors: missingSelectors,
    stored_without_categories: storedWithoutCategories,
    realtime_without_duration: realtimeWithoutDuration,
    urgency: r.urgency,
    has_emergency: r.emergency !== undefined,
    imminent: r.emergency ? r.emergency.imminent : true,
    non_convention_no_penalty: nonConventionNoPenalty,
    min_non_convention_penalty_x10: minNonConvention,
    min_penalty_there_x10: minPenaltyThere,
    authority_kind: r.domestic_authorization ? r.domestic_authorization.authority_kind : 'none',
    requesting_state: r.requesting_state,
    requesting_party: requesting.ctx.party,
    shared_basis: sharedBasis,
    max_realtime_days: maxRealtime,
    max_period_days: maxPeriod,
    all_users: allUsers,
    preserve_short: preserveShort,
    person_statuses: statuses,
    refugee_of_requesting: refugeeOfRequesting,
    death_possible: r.offences.some((o) => o.death_penalty_possible === true),
    no_death_penalty_assurance: (r.assurances || []).includes('no_death_penalty'),
    no_user_notification: !!(r.confidentiality && r.confidentiality.no_user_notification),
    other_offence_text: text,
    speech_words: SPEECH_WORDS.filter((w) => text.includes(w)),
    requested: requested.ctx,
  };
}

async function main() {
  const input = readline.createInterface({ input: fs.createReadStream(requestsFile),
    crlfDelay: Infinity });
  const out = [];
  let n = 0;
  let allow = 0;
  let deny = 0;
  let start = null;
  let startCpu = null;
  for await (const line of input) {
    if (n >= limit) break;
    if (start === null) {
      start = process.hrtime.bigint();
      startCpu = process.cpuUsage();
    }
    const r = JSON.parse(line);
    const requesting = profiles[r.requesting_state];
    const requested = profiles[r.requested_state];
    const answer = cedar.statefulIsAuthorized({
      principal: { type: 'State', id: r.requesting_state },
      action: { type: 'Action', id: 'screen' },
      resource: { type: 'Request', id: r.id || 'draft' },
      context: context(r, requesting, requested),
      preparsedPolicySetId: 'treaty',
      entities: [],
    });
    if (answer.type !== 'success') {
      process.stderr.write('cedar: ' + JSON.stringify(answer.errors) + '\n');
      process.exit(1);
    }
    if (answer.response.decision === 'allow') ++allow;
    else ++deny;
    out.push(JSON.stringify({ request_id: r.id, decision: answer.response.decision,
      reasons: answer.response.diagnostics.reason }));
    if (out.length === 1000) out.length = 0;  // serialized, then dropped: as a pipe would
    ++n;
  }
  const seconds = Number(process.hrtime.bigint() - (start || process.hrtime.bigint())) / 1e9;
  const cpu = process.cpuUsage(startCpu || undefined);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rate = n / seconds;
  process.stdout.write(`cedar: ${n} requests in ${seconds.toFixed(3)} s = ${rate.toFixed(0)} ` +
    `requests/s wall, ${(n / cpuSeconds).toFixed(0)} requests/s of CPU ` +
    `(allow ${allow}, deny ${deny})\n`);
}

main();
