declare module 'palisade:policy/types@0.2.3' {
  /**
   * How serious a finding is. Ordered from least to most severe.
   * # Variants
   * 
   * ## `"info"`
   * 
   * Worth knowing; never fails a check by default.
   * ## `"warning"`
   * 
   * Likely a problem.
   * ## `"error"`
   * 
   * A violation of the intended shape.
   */
  export type Severity = 'info' | 'warning' | 'error';
  /**
   * A `key=value` label or annotation.
   */
  export interface Label {
    /**
     * The key, with its prefix (`app.kubernetes.io/name`).
     */
    key: string,
    /**
     * The value.
     */
    value: string,
  }
  /**
   * One object from the inputs. Every fact refers back to its source
   * object by `id`, the object's index in `facts.objects()`. The object's
   * whole text is not part of the contract: every fact a rule needs is a
   * function of `facts`.
   */
  export interface SourceObject {
    /**
     * Index of this object in `facts.objects()`.
     */
    id: number,
    /**
     * `apiVersion`, as written (`apps/v1`).
     */
    apiVersion: string,
    /**
     * `kind`, as written (`Deployment`).
     */
    kind: string,
    /**
     * Absent for cluster-scoped objects.
     */
    namespace?: string,
    /**
     * `metadata.name`.
     */
    name: string,
    /**
     * `metadata.labels`.
     */
    labels: Array<Label>,
    /**
     * `metadata.annotations`, kubectl's last-applied configuration
     * redacted.
     */
    annotations: Array<Label>,
  }
  /**
   * A namespace. Namespaces referenced by objects but never declared exist
   * with the automatic `kubernetes.io/metadata.name` label only.
   */
  export interface Namespace {
    /**
     * The namespace's name.
     */
    name: string,
    /**
     * Labels, including `kubernetes.io/metadata.name` (which the API
     * server always sets).
     */
    labels: Array<Label>,
    /**
     * The declaring `Namespace` object, when the inputs have one.
     */
    object?: number,
  }
  /**
   * An L4 protocol as NetworkPolicy and container ports know it.
   * # Variants
   * 
   * ## `"tcp"`
   * 
   * TCP, the default everywhere.
   * ## `"udp"`
   * 
   * UDP.
   * ## `"sctp"`
   * 
   * SCTP.
   */
  export type Protocol = 'tcp' | 'udp' | 'sctp';
  /**
   * A declared container port.
   */
  export interface ContainerPort {
    /**
     * The port's name, which rules may refer to.
     */
    name?: string,
    /**
     * The port number.
     */
    port: number,
    /**
     * Its protocol (TCP when not written).
     */
    protocol: Protocol,
  }
  /**
   * An environment variable of a container, with its value as the host
   * resolved it (see `container.env` for which entries there are).
   * 
   * `value` is the value the variable gets from this entry: a literal
   * `value` after Kubernetes' `$(VAR)` expansion (`$$` is `$`; a reference
   * to a name nothing defines stays as written), or the ConfigMap key a
   * `valueFrom.configMapKeyRef` or an `envFrom` `configMapRef` names.
   * A reference the host cannot resolve stays as written, `$(NAME)`,
   * inside an otherwise known value: treat a part holding `$(` as
   * unknown, and judge the rest. It is `none` when the inputs do not
   * determine it, and never a guess: a Secret's value (which plugins never
   * receive), a ConfigMap, Secret or key missing from the inputs,
   * `fieldRef`, `resourceFieldRef` and `fileKeyRef`, or an `optional`
   * reference to a key its object lacks.
   */
  export interface EnvVar {
    /**
     * The variable's name.
     */
    name: string,
    /**
     * Its effective value, when the inputs determine it.
     */
    value?: string,
  }
  /**
   * A container (or init container) of a workload's pod spec.
   */
  export interface Container {
    /**
     * The container's name.
     */
    name: string,
    /**
     * Its image reference, as written.
     */
    image: string,
    /**
     * Whether it is an init container.
     */
    init: boolean,
    /**
     * Its declared ports.
     */
    ports: Array<ContainerPort>,
    /**
     * The container's effective environment, in two parts.
     * 
     * Entries `0 .. n`, where n is the length of the manifest's `env`,
     * are exactly the manifest's `env` entries, in order, one for one,
     * duplicates included (the last entry of a name is the one in
     * effect): entry j is `<pod-spec-path>/containers/<i>/env/<j>` (or
     * `initContainers`), so that path, and `…/env/<j>/value`, name it
     * in findings.
     * 
     * Then, after them, each variable that only `envFrom` defines
     * (with its `prefix`, the last source of a name winning), once
     * each, sorted by name. A finding may name these by index too
     * (`…/env/<j>` with j ≥ n): the host locates it at the ConfigMap
     * key the value comes from, or at the `envFrom` entry.
     */
    env: Array<EnvVar>,
  }
  /**
   * What kind of object a workload comes from.
   * # Variants
   * 
   * ## `"pod"`
   * 
   * A bare Pod.
   * ## `"deployment"`
   * 
   * `apps/v1` Deployment.
   * ## `"stateful-set"`
   * 
   * `apps/v1` StatefulSet.
   * ## `"daemon-set"`
   * 
   * `apps/v1` DaemonSet.
   * ## `"replica-set"`
   * 
   * `apps/v1` ReplicaSet.
   * ## `"replication-controller"`
   * 
   * `v1` ReplicationController.
   * ## `"job"`
   * 
   * `batch/v1` Job.
   * ## `"cron-job"`
   * 
   * `batch/v1` CronJob.
   */
  export type WorkloadKind = 'pod' | 'deployment' | 'stateful-set' | 'daemon-set' | 'replica-set' | 'replication-controller' | 'job' | 'cron-job';
  /**
   * The kinds of RBAC subject.
   * # Variants
   * 
   * ## `"user"`
   * 
   * A user name.
   * ## `"group"`
   * 
   * A group name.
   * ## `"service-account"`
   * 
   * A ServiceAccount, always with its namespace.
   */
  export type SubjectKind = 'user' | 'group' | 'service-account';
  /**
   * A subject of an RBAC binding, or an identity a workload acts as
   * (ServiceAccount namespaces defaulted as the API server does it).
   */
  export interface RbacSubject {
    /**
     * User, group or service account.
     */
    kind: SubjectKind,
    /**
     * The subject's name.
     */
    name: string,
    /**
     * The namespace of a service account; absent for users and groups.
     */
    namespace?: string,
  }
  /**
   * Which NetworkPolicies isolate a workload, per direction, with
   * `policyTypes` defaulted as the API server does it. Entries are indices
   * into `facts.network-policies()`. An empty list means "not isolated":
   * every connection in that direction is allowed.
   */
  export interface Isolation {
    /**
     * Policies isolating the workload for ingress.
     */
    ingress: Uint32Array,
    /**
     * Policies isolating the workload for egress.
     */
    egress: Uint32Array,
  }
  /**
   * A set of pods: a Pod, or the pod template of a workload controller,
   * which stands for every pod it creates.
   */
  export interface Workload {
    /**
     * Index of this workload in `facts.workloads()`.
     */
    id: number,
    /**
     * The source object (the Pod or the controller).
     */
    object: number,
    /**
     * The kind of that object.
     */
    kind: WorkloadKind,
    /**
     * The namespace of the pods.
     */
    namespace: string,
    /**
     * The object's name.
     */
    name: string,
    /**
     * Labels of the pods (the template's labels for controllers).
     */
    labels: Array<Label>,
    /**
     * `spec.serviceAccountName`, defaulted to `default`.
     */
    serviceAccount: string,
    /**
     * `spec.automountServiceAccountToken`, as written.
     */
    automountServiceAccountToken?: boolean,
    /**
     * Whether the pods get an API token mounted: the pod spec's
     * `automountServiceAccountToken` when set, else the
     * ServiceAccount's (when the inputs hold it), else true.
     */
    tokenMounted: boolean,
    /**
     * The identities the pods authenticate as with that token: the
     * service account, and the groups `system:serviceaccounts`,
     * `system:serviceaccounts:<namespace>` and `system:authenticated`.
     */
    identities: Array<RbacSubject>,
    /**
     * `spec.hostNetwork`.
     */
    hostNetwork: boolean,
    /**
     * Init containers and containers, in that order.
     */
    containers: Array<Container>,
    /**
     * JSON pointer of the pod spec inside the source object, for
     * findings (`/spec`, `/spec/template/spec`,
     * `/spec/jobTemplate/spec/template/spec`).
     */
    podSpecPath: string,
    /**
     * `status.podIPs` (or `status.podIP`) when given, for Pods.
     */
    podIps: Array<string>,
    /**
     * The policies isolating it, per direction.
     */
    isolation: Isolation,
  }
  /**
   * A direction of traffic, seen from a workload.
   * # Variants
   * 
   * ## `"ingress"`
   * 
   * What the workload receives.
   * ## `"egress"`
   * 
   * What the workload sends.
   */
  export type Direction = 'ingress' | 'egress';
  /**
   * Traffic one rule allows a workload to send (egress) or receive
   * (ingress): the rule is `facts.network-policies()[policy]`
   * `.egress[rule]` (or `.ingress[rule]`), and the peer is that rule's
   * `peers[peer]`.
   */
  export interface Flow {
    /**
     * The policy (index into `facts.network-policies()`).
     */
    policy: number,
    /**
     * The rule's index in the policy's `ingress` or `egress` list.
     */
    rule: number,
    /**
     * The peer's index in the rule's `peers`; absent when the rule has
     * no peers (every pod and every address).
     */
    peer?: number,
  }
  /**
   * Operator of a normalized label-selector requirement.
   * # Variants
   * 
   * ## `"in"`
   * 
   * The label's value is one of `values`.
   * ## `"not-in"`
   * 
   * The label is absent, or its value is none of `values`.
   * ## `"exists"`
   * 
   * The label is present.
   * ## `"does-not-exist"`
   * 
   * The label is absent.
   */
  export type SelectorOperator = 'in' | 'not-in' | 'exists' | 'does-not-exist';
  /**
   * One requirement of a label selector. `matchLabels` entries are
   * normalized to `in` with a single value.
   */
  export interface SelectorRequirement {
    /**
     * The label key.
     */
    key: string,
    /**
     * How the label is tested.
     */
    operator: SelectorOperator,
    /**
     * The values of `in` and `not-in`.
     */
    values: Array<string>,
  }
  /**
   * A label selector: the conjunction of its requirements. No requirement
   * selects everything (`{}`).
   */
  export interface LabelSelector {
    /**
     * The requirements, all of which must hold.
     */
    requirements: Array<SelectorRequirement>,
  }
  /**
   * A NetworkPolicy peer selecting pods. Absent selectors are absent, not
   * empty: `namespace-selector: none` means "the policy's own namespace";
   * `pod-selector: none` means "every pod" of the selected namespaces.
   */
  export interface PodPeer {
    /**
     * The namespace selector, as written.
     */
    namespaceSelector?: LabelSelector,
    /**
     * The pod selector, as written.
     */
    podSelector?: LabelSelector,
    /**
     * Whether the peer admits every pod of every namespace (an empty
     * namespace selector, and no or an empty pod selector).
     */
    everyPod: boolean,
    /**
     * Namespace names the namespace selector pins by
     * `kubernetes.io/metadata.name` (the values of an `in` on that key,
     * the API server's label that nobody can change): they may be
     * namespaces the inputs do not hold.
     */
    namedNamespaces: Array<string>,
    /**
     * Keys of the namespace selector other than
     * `kubernetes.io/metadata.name`: labels anyone allowed to label a
     * namespace can set, and so join.
     */
    mutableNamespaceKeys: Array<string>,
  }
  /**
   * Kinds of addresses an address, or an address range, covers.
   */
  export interface AddressClasses {
    /**
     * Globally routable addresses: everything not below.
     */
    'public': boolean,
    /**
     * RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) and IPv6 unique
     * local addresses (`fc00::/7`).
     */
    'private': boolean,
    /**
     * Carrier-grade NAT space (`100.64/10`).
     */
    shared: boolean,
    /**
     * Loopback (`127/8`, `::1`).
     */
    loopback: boolean,
    /**
     * Link-local (`169.254/16`, `fe80::/10`), but the metadata address.
     */
    linkLocal: boolean,
    /**
     * Cloud instance metadata (`169.254.169.254`, `fd00:ec2::254`).
     */
    metadata: boolean,
  }
  /**
   * A NetworkPolicy `ipBlock`, with what it covers.
   */
  export interface IpBlock {
    /**
     * The CIDR, as written.
     */
    cidr: string,
    /**
     * The exceptions, as written.
     */
    except: Array<string>,
    /**
     * Whether it covers every address of its family (`/0` and no
     * `except`).
     */
    everyAddress: boolean,
    /**
     * The kinds of address the block covers once its exceptions are
     * taken out.
     */
    classes: AddressClasses,
  }
  /**
   * One peer of a NetworkPolicy rule.
   */
  export type Peer = PeerPods | PeerIpBlock;
  /**
   * Pods chosen by selectors.
   */
  export interface PeerPods {
    tag: 'pods',
    val: PodPeer,
  }
  /**
   * Addresses.
   */
  export interface PeerIpBlock {
    tag: 'ip-block',
    val: IpBlock,
  }
  /**
   * A port as written in a rule: a number or a container port name.
   */
  export type PortRef = PortRefNumber | PortRefName;
  /**
   * A port number.
   */
  export interface PortRefNumber {
    tag: 'number',
    val: number,
  }
  /**
   * A container port name, resolved on the destination pod.
   */
  export interface PortRefName {
    tag: 'name',
    val: string,
  }
  /**
   * One entry of a rule's `ports` with defaults applied.
   */
  export interface PortSpec {
    /**
     * The protocol (TCP when not written).
     */
    protocol: Protocol,
    /**
     * Whether `protocol` was not written, and so defaulted to TCP.
     */
    protocolDefaulted: boolean,
    /**
     * Absent: every port of the protocol.
     */
    port?: PortRef,
    /**
     * Inclusive end of a numeric range starting at `port`.
     */
    endPort?: number,
  }
  /**
   * What one peer matches among the inputs, resolved by the host.
   */
  export interface PeerMatch {
    /**
     * Namespaces the peer admits (for an ip-block: none).
     */
    namespaces: Array<string>,
    /**
     * Workloads the peer matches (indices into `facts.workloads()`):
     * pods selected by namespace and pod selector, or, for an
     * ip-block, pods whose known IPs it contains. Whether hostNetwork
     * pods, and pod IPs under an ip-block, can match follows the policy
     * set's network plugin profile.
     */
    workloads: Uint32Array,
  }
  /**
   * One ingress or egress rule.
   */
  export interface PolicyRule {
    /**
     * JSON pointer of the rule in the policy (`/spec/egress/0`).
     */
    path: string,
    /**
     * Empty: every peer (absent and empty `from`/`to` mean the same).
     */
    peers: Array<Peer>,
    /**
     * Empty: every port and protocol. Named ports resolve on the
     * destination pod's container ports.
     */
    ports: Array<PortSpec>,
    /**
     * Parallel to `peers`: what each matches in the inputs.
     */
    matches: Array<PeerMatch>,
    /**
     * Parallel to `peers`: the JSON pointer of each in the policy
     * (`/spec/egress/0/to/1`).
     */
    peerPaths: Array<string>,
    /**
     * Parallel to `ports`: the JSON pointer of each in the policy
     * (`/spec/egress/0/ports/0`).
     */
    portPaths: Array<string>,
  }
  /**
   * A NetworkPolicy in normalized form.
   */
  export interface NetworkPolicy {
    /**
     * The source object.
     */
    object: number,
    /**
     * The policy's namespace.
     */
    namespace: string,
    /**
     * The policy's name.
     */
    name: string,
    /**
     * `spec.podSelector`.
     */
    podSelector: LabelSelector,
    /**
     * Whether the pod selector is `{}`: every pod of the namespace.
     */
    selectsAll: boolean,
    /**
     * `policyTypes` after API-server defaulting: absent means
     * `Ingress`, plus `Egress` only when `spec.egress` is a non-empty
     * list.
     */
    affectsIngress: boolean,
    /**
     * See `affects-ingress`.
     */
    affectsEgress: boolean,
    /**
     * `spec.ingress`.
     */
    ingress: Array<PolicyRule>,
    /**
     * `spec.egress`.
     */
    egress: Array<PolicyRule>,
    /**
     * The workloads this policy selects (indices into
     * `facts.workloads()`).
     */
    selects: Uint32Array,
  }
  /**
   * One RBAC PolicyRule.
   */
  export interface RbacRule {
    /**
     * `verbs`.
     */
    verbs: Array<string>,
    /**
     * `apiGroups`.
     */
    apiGroups: Array<string>,
    /**
     * `resources`.
     */
    resources: Array<string>,
    /**
     * `resourceNames`.
     */
    resourceNames: Array<string>,
    /**
     * `nonResourceURLs`.
     */
    nonResourceUrls: Array<string>,
  }
  /**
   * Role or ClusterRole.
   * # Variants
   * 
   * ## `"role"`
   * 
   * A namespaced `Role`.
   * ## `"cluster-role"`
   * 
   * A `ClusterRole`.
   */
  export type RoleKind = 'role' | 'cluster-role';
  /**
   * A Role or ClusterRole, with aggregation resolved.
   */
  export interface RbacRole {
    /**
     * Role or ClusterRole.
     */
    kind: RoleKind,
    /**
     * The namespace of a Role.
     */
    namespace?: string,
    /**
     * The role's name.
     */
    name: string,
    /**
     * The source object; absent for built-in ClusterRoles.
     */
    object?: number,
    /**
     * The rules, with aggregated ClusterRoles' rules folded in.
     */
    rules: Array<RbacRule>,
  }
  /**
   * A RoleBinding or ClusterRoleBinding of the inputs.
   */
  export interface RbacBinding {
    /**
     * The source object.
     */
    object: number,
    /**
     * Whether it is a ClusterRoleBinding (else a RoleBinding).
     */
    clusterWide: boolean,
    /**
     * The namespace of a RoleBinding.
     */
    namespace?: string,
    /**
     * The binding's name.
     */
    name: string,
    /**
     * Index into `facts.rbac-roles()`; absent when the role does not
     * exist.
     */
    role?: number,
    /**
     * The kind of role the binding references.
     */
    roleKind: RoleKind,
    /**
     * The name of the role the binding references.
     */
    roleName: string,
    /**
     * Its subjects.
     */
    subjects: Array<RbacSubject>,
  }
  /**
   * Where an access question is asked.
   */
  export type AccessScope = AccessScopeCluster | AccessScopeNamespace | AccessScopeAnyNamespace;
  /**
   * Cluster-scoped resources (or non-resource URLs): only
   * ClusterRoleBindings count.
   */
  export interface AccessScopeCluster {
    tag: 'cluster',
  }
  /**
   * One namespace.
   */
  export interface AccessScopeNamespace {
    tag: 'namespace',
    val: string,
  }
  /**
   * Any namespace: every binding counts, each grant says where.
   */
  export interface AccessScopeAnyNamespace {
    tag: 'any-namespace',
  }
  /**
   * "Who can do VERB on RESOURCE here?", answered by the host with the
   * authorizer's semantics.
   */
  export interface AccessQuery {
    /**
     * The verb (`create`, `patch`, …).
     */
    verb: string,
    /**
     * The API group (`""`: core).
     */
    apiGroup: string,
    /**
     * The resource (plural, lower case).
     */
    resource: string,
    /**
     * A subresource (`exec`, `proxy`).
     */
    subresource?: string,
    /**
     * An object name; absent: some object of the kind, so rules
     * restricted by `resourceNames` count too.
     */
    name?: string,
    /**
     * A non-resource URL instead of a resource.
     */
    nonResourceUrl?: string,
    /**
     * Where it is asked.
     */
    scope: AccessScope,
  }
  /**
   * One subject that can, and how.
   */
  export interface AccessGrant {
    /**
     * The subject the binding names.
     */
    subject: RbacSubject,
    /**
     * Index into `facts.rbac-bindings()`.
     */
    binding: number,
    /**
     * Index into `facts.rbac-roles()`.
     */
    role: number,
    /**
     * Index of the granting rule in the role.
     */
    rule: number,
    /**
     * Where the grant applies; absent: everywhere.
     */
    namespace?: string,
  }
  /**
   * One `acl` of a proxy configuration (several lines merged).
   */
  export interface SquidAcl {
    /**
     * The ACL's name (squid compares names case-insensitively).
     */
    name: string,
    /**
     * `src`, `dst`, `dstdomain`, `dstdom_regex`, `port`, `method`, …
     */
    typeName: string,
    /**
     * The values, as written.
     */
    values: Array<string>,
    /**
     * Lines defining it (empty for squid's predefined ACLs). When every
     * defining line adds values, there is one entry per value, in
     * `values` order.
     */
    lines: Uint32Array,
    /**
     * Whether the ACL matches every destination, as the host's
     * evaluator reads it (`dst all`, `dstdomain .`, a `dstdom_regex`
     * that matches any host name).
     */
    matchesEveryDestination: boolean,
    /**
     * For `src` and `dst` ACLs, parallel to `values`: the addresses
     * each value stands for, as squid reads it, written as CIDRs (a
     * range `a-b` as the CIDRs that cover exactly it, `all` as
     * `0.0.0.0/0` and `::/0`). Empty for a host name (squid resolves
     * it when it loads the configuration) and for a value no list of
     * CIDRs can write (a non-prefix mask). Empty for other types.
     */
    valueCidrs: Array<Array<string>>,
  }
  /**
   * One `http_access` line.
   */
  export interface SquidAccess {
    /**
     * `allow` (else `deny`).
     */
    allow: boolean,
    /**
     * ACL names, `!`-prefixed when negated.
     */
    acls: Array<string>,
    /**
     * The line.
     */
    line: number,
  }
  /**
   * One `http_port`.
   */
  export interface SquidListener {
    /**
     * Absent: every interface.
     */
    address?: string,
    /**
     * The port.
     */
    port: number,
    /**
     * The options after the address, as written.
     */
    options: Array<string>,
    /**
     * The line.
     */
    line: number,
  }
  /**
   * A squid configuration from the inputs (a `squid.conf` file, or the
   * `squid.conf` key of a ConfigMap).
   */
  export interface ProxyConfig {
    /**
     * The ConfigMap, or a `palisade.dev/v1alpha1` `SquidConfig` object
     * standing for the file.
     */
    object: number,
    /**
     * The file's name.
     */
    file: string,
    /**
     * `http_port` lines.
     */
    listeners: Array<SquidListener>,
    /**
     * ACLs, predefined ones included.
     */
    acls: Array<SquidAcl>,
    /**
     * `http_access` lines, in order.
     */
    access: Array<SquidAccess>,
    /**
     * `access_log` values with their lines (`none` disables logging).
     */
    accessLogs: Array<[string, number]>,
  }
  /**
   * "Would this config let CLIENT send METHOD to HOST:PORT?"
   */
  export interface ProxyRequest {
    /**
     * The client's address.
     */
    client: string,
    /**
     * The HTTP method (`CONNECT`, `GET`).
     */
    method: string,
    /**
     * The destination host name or address.
     */
    host: string,
    /**
     * The destination port.
     */
    port: number,
  }
  /**
   * The host evaluator's answer for one request and one config.
   */
  export interface ProxyVerdict {
    /**
     * Whether the request is allowed.
     */
    allowed: boolean,
    /**
     * The deciding `http_access` line; absent: the implicit rule.
     */
    line?: number,
  }
  /**
   * Pods chosen by the policy set, as the host resolved them.
   */
  export interface WorkloadRole {
    /**
     * The namespace the policy set names.
     */
    namespace: string,
    /**
     * The labels the pods must carry, all of them.
     */
    labels: Array<Label>,
    /**
     * The workloads of the inputs that match (indices into
     * `facts.workloads()`).
     */
    workloads: Uint32Array,
  }
  /**
   * The proxy, as the policy set declares it.
   */
  export interface ProxyRole {
    /**
     * Its pods.
     */
    pods: WorkloadRole,
    /**
     * Its addresses (when it runs outside the cluster, or by IP).
     */
    cidrs: Array<string>,
    /**
     * The ports it serves.
     */
    ports: Uint16Array,
    /**
     * Host names that reach it (besides
     * `*.<namespace>.svc[.cluster.local]` and its CIDRs).
     */
    hosts: Array<string>,
    /**
     * The namespaces whose workloads may use it; empty: any.
     */
    clientNamespaces: Array<string>,
    /**
     * The addresses its clients come from (the pod network), as the
     * proxy's own ACLs should admit them.
     */
    clientCidrs: Array<string>,
  }
  /**
   * Where a finding points inside its object.
   */
  export type Location = LocationObject | LocationField | LocationLine;
  /**
   * The object as a whole.
   */
  export interface LocationObject {
    tag: 'object',
  }
  /**
   * A field: a JSON pointer inside the object (`/spec/podSelector`).
   */
  export interface LocationField {
    tag: 'field',
    val: string,
  }
  /**
   * A line of a proxy configuration's file (for the object of a
   * `proxy-config`).
   */
  export interface LocationLine {
    tag: 'line',
    val: number,
  }
  /**
   * A verdict about one object.
   */
  export interface Finding {
    /**
     * A rule ID declared in the plugin's metadata.
     */
    rule: string,
    /**
     * The rule's severity, or another for this finding.
     */
    severity: Severity,
    /**
     * One line, for people.
     */
    message: string,
    /**
     * The object the finding is about (`source-object.id`).
     */
    object: number,
    /**
     * Where in that object.
     */
    at: Location,
    /**
     * How to fix it.
     */
    remediation?: string,
  }
  /**
   * Documentation and defaults of one rule.
   */
  export interface RuleInfo {
    /**
     * Stable ID, never reused: an upper-case prefix and a number
     * (`NP001`).
     */
    id: string,
    /**
     * Kebab-case name (`workload-not-isolated-for-ingress`).
     */
    name: string,
    /**
     * Its severity unless the policy set overrides it.
     */
    defaultSeverity: Severity,
    /**
     * One line.
     */
    summary: string,
    /**
     * Markdown: what it checks, why it matters, an example, how to fix.
     */
    doc: string,
  }
  /**
   * The type of a setting's value.
   * # Variants
   * 
   * ## `"boolean"`
   * 
   * `true` or `false`.
   * ## `"integer"`
   * 
   * A whole number.
   * ## `"text"`
   * 
   * A string.
   * ## `"text-list"`
   * 
   * A list of strings.
   * ## `"cidr-list"`
   * 
   * A list of CIDRs (`10.0.0.0/8`).
   * ## `"port-list"`
   * 
   * A list of port numbers (1–65535).
   * ## `"text-map"`
   * 
   * A map from strings to strings.
   * ## `"structured"`
   * 
   * A list of maps or a structure: the plugin checks its shape.
   */
  export type SettingType = 'boolean' | 'integer' | 'text' | 'text-list' | 'cidr-list' | 'port-list' | 'text-map' | 'structured';
  /**
   * One setting a plugin accepts.
   */
  export interface Setting {
    /**
     * The key in the policy set (`allowedDestinations`).
     */
    name: string,
    /**
     * The type of its value.
     */
    type: SettingType,
    /**
     * One line on what it does and its default.
     */
    doc: string,
  }
  /**
   * What a plugin is.
   */
  export interface PluginMetadata {
    /**
     * Stable plugin ID (`default-deny`).
     */
    id: string,
    /**
     * The plugin's version.
     */
    version: string,
    /**
     * One paragraph on what it checks.
     */
    description: string,
    /**
     * Its rules.
     */
    rules: Array<RuleInfo>,
    /**
     * The settings it accepts; the host rejects any other key, and a
     * value of the wrong type, before the plugin sees them.
     */
    settings: Array<Setting>,
  }
  /**
   * An evaluation the plugin could not complete.
   */
  export interface PluginError {
    /**
     * Why, for people.
     */
    message: string,
  }
}
