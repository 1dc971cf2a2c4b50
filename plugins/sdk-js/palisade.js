// Write Palisade rules in JavaScript (or TypeScript, compiled to JS).
//
// A plugin is an ES module that declares itself, its settings and its rules,
// and exports the result as `plugin`, the contract's export:
//
//   import { definePlugin, labels, report, setting } from './sdk/palisade.js';
//
//   const p = definePlugin({
//     id: 'team-label', version: '0.1.0',
//     description: 'Workloads carry a team label',
//     settings: { label: setting.text('team', 'The label every workload carries') },
//   });
//   p.rule({ id: 'TL001', name: 'team-label', severity: 'error',
//            summary: "Every workload's pods carry a team label", doc: '...' },
//     function* (cx) {
//       for (const w of cx.workloads()) {
//         if (!(cx.settings.label in labels(w))) {
//           yield report(w, `${w.name} has no team label`).at('/metadata');
//         }
//       }
//     });
//   export const plugin = p.export();
//
// The facts are the host's: the model of the inputs (workloads, policies,
// flows, RBAC, proxies), computed once, in one place, for every language.
// This module adds lookups over them, typed settings and findings; it
// computes no semantics of its own.
//
// Build with componentize-js (`-d stdio random clocks http fetch-event`):
// the sandbox gives a plugin no files, network, environment, clock or
// randomness. `console.log` and friends go to the plugin's log.

import * as facts from 'palisade:policy/facts@0.2.3';
import * as cloud from 'palisade:policy/cloud@0.2.3';
import { observedCalls } from 'palisade:policy/observed@0.2.3';
import { log as hostLog } from 'palisade:policy/log@0.2.3';
import { resolvedPorts } from 'palisade:policy/ports@0.2.3';

/** Sends a message to the host's log for this evaluation (`--verbose`). */
export function log(level, message) {
  hostLog(level, String(message));
}

// A component has no terminal: the console writes to the plugin's log.
const show = (level) => (...args) => hostLog(level, args.map(String).join(' '));
globalThis.console = {
  ...globalThis.console,
  log: show('info'),
  info: show('info'),
  debug: show('debug'),
  warn: show('warn'),
  error: show('error'),
};

const KIND_NAMES = {
  pod: 'Pod',
  deployment: 'Deployment',
  'stateful-set': 'StatefulSet',
  'daemon-set': 'DaemonSet',
  'replica-set': 'ReplicaSet',
  'replication-controller': 'ReplicationController',
  job: 'Job',
  'cron-job': 'CronJob',
};

/** The Kubernetes kind of a workload kind (`'stateful-set'` → `StatefulSet`). */
export function kindName(kind) {
  return KIND_NAMES[kind] ?? kind;
}

/**
 * The labels of a source object, workload (its pods' labels), namespace or
 * anything else with a `labels` list, as a plain object.
 */
export function labels(subject) {
  const out = Object.create(null);
  for (const { key, value } of subject.labels) out[key] = value;
  return out;
}

/**
 * A container's environment: name to literal value (`undefined` when the
 * value comes from `valueFrom`).
 */
export function env(container) {
  const out = Object.create(null);
  for (const { name, value } of container.env) out[name] = value;
  return out;
}

/** The host's facts for one evaluation, each fetched once on first use. */
export class Facts {
  #cache = new Map();

  #once(key, fetch) {
    if (!this.#cache.has(key)) this.#cache.set(key, fetch());
    return this.#cache.get(key);
  }

  settingsJson() { return this.#once('settings', facts.settings); }
  enabledRules() { return this.#once('enabled', facts.enabledRules); }
  excludedNamespaces() { return this.#once('excluded', facts.excludedNamespaces); }
  objects() { return this.#once('objects', facts.objects); }
  namespaces() { return this.#once('namespaces', facts.namespaces); }
  workloads() { return this.#once('workloads', facts.workloads); }
  networkPolicies() { return this.#once('policies', facts.networkPolicies); }
  flows(workload, direction) {
    return this.#once(`flows/${workload}/${direction}`, () => facts.flows(workload, direction));
  }
  selectWorkloads(namespace, selector) { return facts.selectWorkloads(namespace, selector); }
  classifyAddress(address) { return facts.classifyAddress(address); }
  rbacRoles() { return this.#once('roles', facts.rbacRoles); }
  rbacBindings() { return this.#once('bindings', facts.rbacBindings); }
  whoCan(query) { return facts.whoCan(query); }
  proxies() { return this.#once('proxies', facts.proxies); }
  evaluateProxy(proxy, request) { return facts.evaluateProxy(proxy, request); }
  proxy() { return this.#once('proxy', facts.proxy); }
  clusterDns() { return this.#once('dns', facts.clusterDns); }
  allowedDestinations() { return this.#once('allowed', facts.allowedDestinations); }
  admins() { return this.#once('admins', facts.admins); }
  resolvedPorts(policy, direction, rule, destination) {
    return resolvedPorts(policy, direction, rule, destination);
  }
  observedCalls() { return this.#once('observed', observedCalls); }
  vpcs() { return this.#once('vpcs', cloud.vpcs); }
  subnets() { return this.#once('subnets', cloud.subnets); }
  securityGroups() { return this.#once('groups', cloud.securityGroups); }
  workloadPlacement(workload) { return cloud.workloadPlacement(workload); }
  reach(subnet, securityGroups, address, protocol, port) {
    return cloud.reach(subnet, securityGroups, address, protocol, port);
  }
}

/** A finding being built: `report(obj, message).at('/spec').fix('...')`. */
export class Report {
  constructor(subject, message) {
    this.object = objectId(subject);
    this.message = String(message);
    this.location = { tag: 'object' };
    this.remediation = undefined;
    this.severityOverride = undefined;
  }

  /** Points the finding at a field: a JSON pointer (`/spec/podSelector`). */
  at(path) {
    this.location = { tag: 'field', val: String(path) };
    return this;
  }

  /** Points the finding at a line of a proxy configuration's file. */
  atLine(line) {
    this.location = { tag: 'line', val: Number(line) };
    return this;
  }

  /** Adds remediation text. */
  fix(remediation) {
    this.remediation = String(remediation);
    return this;
  }

  /** Overrides the rule's default severity for this finding. */
  severity(severity) {
    this.severityOverride = severity;
    return this;
  }
}

/**
 * A finding about `subject`: a workload, a policy, a proxy config (anything
 * with an `object` field), a source object, or a source-object ID.
 */
export function report(subject, message) {
  return new Report(subject, message);
}

function objectId(subject) {
  if (typeof subject === 'number' && Number.isInteger(subject)) return subject;
  if (subject && typeof subject.object === 'number') return subject.object;
  if (subject && typeof subject.id === 'number' && 'apiVersion' in subject) return subject.id;
  throw new TypeError('report() needs an object: a workload, a policy, a source object or an ID');
}

/** What a rule sees: the facts, its settings, and lookups over them. */
export class Context {
  constructor(facts, settings, rule) {
    this.facts = facts;
    this.settings = settings;
    this.ruleId = rule.id;
    this.defaultSeverity = rule.severity;
  }

  /** Whether objects in `namespace` may be reported on. */
  inScope(namespace) {
    return !this.facts.excludedNamespaces().includes(namespace);
  }

  /** Workloads whose namespace is in scope. */
  workloads() {
    return this.facts.workloads().filter((w) => this.inScope(w.namespace));
  }

  /** NetworkPolicies whose namespace is in scope. */
  networkPolicies() {
    return this.facts.networkPolicies().filter((p) => this.inScope(p.namespace));
  }

  /** The source object with this ID (a workload's `object`). */
  object(id) { return this.facts.objects()[id]; }

  /** The workload with this index. */
  workload(id) { return this.facts.workloads()[id]; }

  /** The NetworkPolicy with this index (a flow's `policy`). */
  networkPolicy(index) { return this.facts.networkPolicies()[index]; }

  /**
   * What `workload` may send (`'egress'`) or receive, each flow with its
   * policy, rule and peer (`peer` undefined: every pod and address). Empty
   * when the workload is not isolated in that direction: then everything is
   * allowed.
   */
  flows(workload, direction) {
    return this.facts.flows(workload.id, direction).map((flow) => {
      const policy = this.networkPolicy(flow.policy);
      const rule = (direction === 'egress' ? policy.egress : policy.ingress)[flow.rule];
      const peer = flow.peer === undefined ? undefined : rule.peers[flow.peer];
      const matches = flow.peer === undefined ? undefined : rule.matches[flow.peer];
      const path = flow.peer === undefined ? rule.path : (rule.peerPaths[flow.peer] ?? rule.path);
      return { flow, policy, rule, peer, matches, path };
    });
  }
}

const CHECKS = {
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => Number.isInteger(v),
  text: (v) => typeof v === 'string',
  'text-list': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  'cidr-list': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  'port-list': (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x)),
  'text-map': (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
    && Object.values(v).every((x) => typeof x === 'string'),
  structured: () => true,
};

/**
 * Setting declarations: `setting.text(defaultValue, doc)`. The host checks
 * each value's type before the plugin runs; the SDK checks again and fills
 * in defaults.
 */
export const setting = Object.fromEntries(
  [
    ['boolean', 'boolean'], ['integer', 'integer'], ['text', 'text'],
    ['textList', 'text-list'], ['cidrList', 'cidr-list'], ['portList', 'port-list'],
    ['textMap', 'text-map'], ['structured', 'structured'],
  ].map(([fn, type]) => [fn, (defaultValue, doc = '', name = undefined) => ({
    type, default: defaultValue, doc, name,
  })]),
);

const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** A plugin being declared: its identity, settings and rules. */
export class PluginSpec {
  constructor({ id, version, description, settings = {}, validate = undefined }) {
    this.id = id;
    this.version = version;
    this.description = description;
    this.settings = Object.entries(settings).map(([key, s]) => ({
      ...s, key, name: s.name ?? key,
    }));
    this.validate = validate;
    this.rules = [];
  }

  /**
   * Declares a rule. `check(cx)` returns or yields `report()`s;
   * `severity` is `'info'`, `'warning'` or `'error'`.
   */
  rule({ id, name, severity, summary, doc }, check) {
    if (this.rules.some((r) => r.id === id)) throw new Error(`rule ${id} is declared twice`);
    this.rules.push({ id, name, severity, summary, doc, check });
    return this;
  }

  metadata() {
    return {
      id: this.id,
      version: this.version,
      description: this.description,
      rules: this.rules.map((r) => ({
        id: r.id, name: r.name, defaultSeverity: r.severity, summary: r.summary, doc: r.doc,
      })),
      settings: this.settings.map((s) => ({ name: s.name, type: s.type, doc: s.doc })),
    };
  }

  /**
   * Settings JSON (empty or `null`: the defaults) as an object keyed by the
   * declared names, then `validate(settings)` if given (a returned string is
   * the problem). Throws an Error with a message for the policy-set author.
   */
  parseSettings(text) {
    const trimmed = text.trim();
    const raw = trimmed === '' || trimmed === 'null' ? {} : JSON.parse(trimmed);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new Error('settings must be a mapping');
    }
    const byName = new Map(this.settings.map((s) => [s.name, s]));
    const unknown = Object.keys(raw).filter((k) => !byName.has(k)).sort();
    if (unknown.length) throw new Error(`unknown setting(s): ${unknown.join(', ')}`);
    const out = {};
    for (const s of this.settings) {
      if (s.name in raw) {
        if (!CHECKS[s.type](raw[s.name])) {
          throw new Error(`setting \`${s.name}\`: expected ${s.type}, got ${JSON.stringify(raw[s.name])}`);
        }
        out[s.key] = raw[s.name];
      } else {
        out[s.key] = clone(s.default);
      }
    }
    const problem = this.validate?.(out);
    if (problem) throw new Error(String(problem));
    return out;
  }

  /** Runs every enabled rule over the facts. */
  evaluate(f = new Facts()) {
    const settings = this.parseSettings(f.settingsJson());
    const enabled = new Set(f.enabledRules());
    const out = [];
    for (const rule of this.rules) {
      if (!enabled.has(rule.id)) continue;
      const cx = new Context(f, settings, rule);
      for (const r of rule.check(cx) ?? []) {
        if (!(r instanceof Report)) {
          throw new TypeError(`rule ${rule.id} produced something that is not a report()`);
        }
        out.push({
          rule: rule.id,
          severity: r.severityOverride ?? rule.severity,
          message: r.message,
          object: r.object,
          at: r.location,
          remediation: r.remediation,
        });
      }
    }
    return out;
  }

  /** The contract's `plugin` export: `export const plugin = p.export();`. */
  export() {
    return {
      metadata: () => this.metadata(),
      validateSettings: (text) => {
        try {
          this.parseSettings(text);
        } catch (e) {
          throw describe(e);
        }
      },
      evaluate: () => {
        try {
          return this.evaluate();
        } catch (e) {
          hostLog('fatal', e?.stack ? `${describe(e)}\n${e.stack}` : describe(e));
          throw { message: describe(e) };
        }
      },
    };
  }
}

function describe(e) {
  if (e instanceof Error) return e.message ? `${e.name}: ${e.message}` : e.name;
  return String(e);
}

/** Declares the plugin. */
export function definePlugin(spec) {
  return new PluginSpec(spec);
}
