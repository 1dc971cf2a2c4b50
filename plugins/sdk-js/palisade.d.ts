// Types of the JavaScript SDK (palisade.js). The contract's own types are
// generated from the WIT by `jco guest-types` into ./types (checked against
// the WIT by the test suite): every fact a rule sees is one of them.
/// <reference path="./types/policy-plugin.d.ts" />

import type * as T from 'palisade:policy/types@0.2.3';
import type { PortRange } from 'palisade:policy/ports@0.2.3';
import type { Level } from 'palisade:policy/log@0.2.3';
import type * as C from 'palisade:policy/cloud@0.2.3';
import type { ObservedCall } from 'palisade:policy/observed@0.2.3';

export type {
  Severity, Direction, Protocol, WorkloadKind, SourceObject, Namespace, Workload, Container,
  EnvVar, NetworkPolicy, PolicyRule, Peer, PeerMatch, Flow, ProxyRole, ProxyConfig,
  ProxyRequest, ProxyVerdict, RbacRole, RbacBinding, RbacSubject, AccessQuery, AccessGrant,
  AddressClasses, LabelSelector, WorkloadRole, Finding, PluginMetadata, SettingType,
} from 'palisade:policy/types@0.2.3';
export type { PortRange, Level };
export type {
  Vpc, Subnet, SecurityGroup, GroupRule, GroupPeer, Placement, ReachVerdict, RouteExit, Outcome,
  Hop, CloudOrigin, ClusterParts, InternetRoute,
} from 'palisade:policy/cloud@0.2.3';
export type {
  ObservedCall, CallClient, CallVerdict,
} from 'palisade:policy/observed@0.2.3';

export function log(level: Level, message: string): void;
export function kindName(kind: T.WorkloadKind): string;
export function labels(subject: { labels: T.Label[] }): Record<string, string>;
export function env(container: T.Container): Record<string, string | undefined>;

/** The host's facts for one evaluation, each fetched once on first use. */
export class Facts {
  settingsJson(): string;
  enabledRules(): string[];
  excludedNamespaces(): string[];
  objects(): T.SourceObject[];
  namespaces(): T.Namespace[];
  workloads(): T.Workload[];
  networkPolicies(): T.NetworkPolicy[];
  flows(workload: number, direction: T.Direction): T.Flow[];
  selectWorkloads(namespace: string | undefined, selector: T.LabelSelector): number[];
  classifyAddress(address: string): T.AddressClasses | undefined;
  rbacRoles(): T.RbacRole[];
  rbacBindings(): T.RbacBinding[];
  whoCan(query: T.AccessQuery): T.AccessGrant[];
  proxies(): T.ProxyConfig[];
  evaluateProxy(proxy: number, request: T.ProxyRequest): T.ProxyVerdict | undefined;
  proxy(): T.ProxyRole;
  clusterDns(): [T.WorkloadRole, string[]];
  allowedDestinations(): [T.WorkloadRole[], string[]];
  admins(): T.RbacSubject[];
  resolvedPorts(policy: number, direction: T.Direction, rule: number, destination: number):
    PortRange[] | undefined;
  /** What the proxy access logs show (contract 0.2.3); empty without logs. */
  observedCalls(): ObservedCall[];
  /** The cloud network (contract 0.2.2); empty without cloud inputs. */
  vpcs(): C.Vpc[];
  subnets(): C.Subnet[];
  securityGroups(): C.SecurityGroup[];
  workloadPlacement(workload: number): C.Placement | undefined;
  reach(subnet: string, securityGroups: string[], address: string, protocol: T.Protocol,
    port: number): C.ReachVerdict;
}

/** Anything a finding can be about. */
export type Subject = number | T.SourceObject | { object: number };

/** A finding being built. */
export class Report {
  at(path: string): this;
  atLine(line: number): this;
  fix(remediation: string): this;
  severity(severity: T.Severity): this;
}

export function report(subject: Subject, message: string): Report;

/** A flow with the policy, rule and peer it refers to. */
export interface FlowView {
  flow: T.Flow;
  policy: T.NetworkPolicy;
  rule: T.PolicyRule;
  /** Undefined: every pod and address. */
  peer: T.Peer | undefined;
  matches: T.PeerMatch | undefined;
  /** JSON pointer of the peer in its policy (the rule's when it has none). */
  path: string;
}

/** What a rule sees. */
export class Context<S> {
  readonly facts: Facts;
  readonly settings: S;
  readonly ruleId: string;
  readonly defaultSeverity: T.Severity;
  inScope(namespace: string): boolean;
  workloads(): T.Workload[];
  networkPolicies(): T.NetworkPolicy[];
  object(id: number): T.SourceObject;
  workload(id: number): T.Workload;
  networkPolicy(index: number): T.NetworkPolicy;
  flows(workload: T.Workload, direction: T.Direction): FlowView[];
}

/** One declared setting: its type, default and documentation. */
export interface SettingDecl<V> {
  type: T.SettingType;
  default: V;
  doc: string;
  name?: string;
}

export const setting: {
  boolean(defaultValue: boolean, doc?: string, name?: string): SettingDecl<boolean>;
  integer(defaultValue: number, doc?: string, name?: string): SettingDecl<number>;
  text(defaultValue: string, doc?: string, name?: string): SettingDecl<string>;
  textList(defaultValue: string[], doc?: string, name?: string): SettingDecl<string[]>;
  cidrList(defaultValue: string[], doc?: string, name?: string): SettingDecl<string[]>;
  portList(defaultValue: number[], doc?: string, name?: string): SettingDecl<number[]>;
  textMap(defaultValue: Record<string, string>, doc?: string, name?: string): SettingDecl<Record<string, string>>;
  structured<V>(defaultValue: V, doc?: string, name?: string): SettingDecl<V>;
};

/** The settings object a plugin's declarations give its rules. */
export type SettingsOf<D> = { [K in keyof D]: D[K] extends SettingDecl<infer V> ? V : never };

export interface RuleInfo {
  id: string;
  name: string;
  severity: T.Severity;
  summary: string;
  doc: string;
}

export class PluginSpec<D extends Record<string, SettingDecl<unknown>>> {
  rule(info: RuleInfo, check: (cx: Context<SettingsOf<D>>) => Iterable<Report> | void): this;
  metadata(): T.PluginMetadata;
  parseSettings(text: string): SettingsOf<D>;
  evaluate(facts?: Facts): T.Finding[];
  /** The contract's `plugin` export. */
  export(): {
    metadata(): T.PluginMetadata;
    validateSettings(settings: string): void;
    evaluate(): T.Finding[];
  };
}

export function definePlugin<D extends Record<string, SettingDecl<unknown>>>(spec: {
  id: string;
  version: string;
  description: string;
  settings?: D;
  /** A returned string is a problem with the settings. */
  validate?: (settings: SettingsOf<D>) => string | undefined | void;
}): PluginSpec<D>;
