/// <reference path="./palisade-policy-types.d.ts" />
declare module 'palisade:policy/facts@0.2.3' {
  /**
   * The plugin's settings as JSON text (`{}` when the policy set gives
   * none), already checked against the plugin's declared settings and
   * accepted by `validate-settings`.
   */
  export function settings(): string;
  /**
   * The rule IDs the policy set enables for this plugin. Findings for
   * other rules are dropped by the host.
   */
  export function enabledRules(): Array<string>;
  /**
   * Namespaces the policy set excludes: their objects are in the model
   * (they can be peers), but findings about them are dropped by the host,
   * except for RBAC objects.
   */
  export function excludedNamespaces(): Array<string>;
  /**
   * Every object of the inputs.
   */
  export function objects(): Array<SourceObject>;
  /**
   * Every namespace, declared or referenced.
   */
  export function namespaces(): Array<Namespace>;
  /**
   * Every workload.
   */
  export function workloads(): Array<Workload>;
  /**
   * Every NetworkPolicy, normalized.
   */
  export function networkPolicies(): Array<NetworkPolicy>;
  /**
   * What `workload` may receive (`ingress`) or send (`egress`), one flow
   * per (policy, rule, peer) of the policies isolating it in that
   * direction. Meaningful only when the workload is isolated in that
   * direction; otherwise everything is allowed.
   */
  export function flows(workload: number, direction: Direction): Array<Flow>;
  /**
   * The workloads in `namespace` (any namespace when absent) whose pods
   * carry labels matching `selector`.
   */
  export function selectWorkloads(namespace: string | undefined, selector: LabelSelector): Uint32Array;
  /**
   * The kinds of address `address` is (an IPv4 or IPv6 literal); absent
   * when it is not an address.
   */
  export function classifyAddress(address: string): AddressClasses | undefined;
  /**
   * Roles and ClusterRoles, aggregation resolved: every role of the
   * inputs and the built-in ClusterRoles bindings refer to.
   */
  export function rbacRoles(): Array<RbacRole>;
  /**
   * RoleBindings and ClusterRoleBindings of the inputs.
   */
  export function rbacBindings(): Array<RbacBinding>;
  /**
   * Every subject that can do what `query` asks, with the binding, role
   * and rule that grant it.
   */
  export function whoCan(query: AccessQuery): Array<AccessGrant>;
  /**
   * Every squid configuration of the inputs.
   */
  export function proxies(): Array<ProxyConfig>;
  /**
   * What the host's squid evaluator decides for `request` under the
   * configuration `proxy` (index into `proxies()`); absent when there is
   * no such configuration.
   */
  export function evaluateProxy(proxy: number, request: ProxyRequest): ProxyVerdict | undefined;
  /**
   * The proxy the policy set declares (`roles.proxy`).
   */
  export function proxy(): ProxyRole;
  /**
   * Cluster DNS (`roles.dns`): its pods, and its addresses.
   */
  export function clusterDns(): [WorkloadRole, Array<string>];
  /**
   * In-cluster destinations workloads may reach directly
   * (`roles.allowedDestinations`), and the addresses they may reach
   * directly (`roles.allowedCidrs`).
   */
  export function allowedDestinations(): [Array<WorkloadRole>, Array<string>];
  /**
   * Subjects allowed to hold control paths (`roles.admins`), besides
   * `system:masters`.
   */
  export function admins(): Array<RbacSubject>;
  export type SourceObject = import('palisade:policy/types@0.2.3').SourceObject;
  export type Namespace = import('palisade:policy/types@0.2.3').Namespace;
  export type Workload = import('palisade:policy/types@0.2.3').Workload;
  export type NetworkPolicy = import('palisade:policy/types@0.2.3').NetworkPolicy;
  export type Direction = import('palisade:policy/types@0.2.3').Direction;
  export type Flow = import('palisade:policy/types@0.2.3').Flow;
  export type RbacRole = import('palisade:policy/types@0.2.3').RbacRole;
  export type RbacBinding = import('palisade:policy/types@0.2.3').RbacBinding;
  export type RbacSubject = import('palisade:policy/types@0.2.3').RbacSubject;
  export type AccessQuery = import('palisade:policy/types@0.2.3').AccessQuery;
  export type AccessGrant = import('palisade:policy/types@0.2.3').AccessGrant;
  export type ProxyConfig = import('palisade:policy/types@0.2.3').ProxyConfig;
  export type ProxyRequest = import('palisade:policy/types@0.2.3').ProxyRequest;
  export type ProxyVerdict = import('palisade:policy/types@0.2.3').ProxyVerdict;
  export type WorkloadRole = import('palisade:policy/types@0.2.3').WorkloadRole;
  export type ProxyRole = import('palisade:policy/types@0.2.3').ProxyRole;
  export type LabelSelector = import('palisade:policy/types@0.2.3').LabelSelector;
  export type AddressClasses = import('palisade:policy/types@0.2.3').AddressClasses;
}
