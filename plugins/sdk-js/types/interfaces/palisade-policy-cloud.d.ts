/// <reference path="./palisade-policy-types.d.ts" />
declare module 'palisade:policy/cloud@0.2.3' {
  /**
   * Every VPC of the cloud inputs.
   */
  export function vpcs(): Array<Vpc>;
  /**
   * Every subnet.
   */
  export function subnets(): Array<Subnet>;
  /**
   * Every security group.
   */
  export function securityGroups(): Array<SecurityGroup>;
  /**
   * Where workload `workload` sits: the proxy's placement for the
   * proxy's pods, else the pods' own (VPC-native), else the nodes'.
   * Absent when there are no cloud inputs or nothing is placed.
   */
  export function workloadPlacement(workload: number): Placement | undefined;
  /**
   * Whether an interface in `subnet` (a key) carrying `security-groups`
   * can open a connection to `address` (an IPv4 or IPv6 address) on
   * `port`: route, the groups' egress, the subnet's network ACL out and
   * for the answers, and a NAT gateway's subnet on the way. A subnet or
   * address the host cannot read is `unknown`.
   */
  export function reach(subnet: string, securityGroups: Array<string>, address: string, protocol: Protocol, port: number): ReachVerdict;
  export type Protocol = import('palisade:policy/types@0.2.3').Protocol;
  /**
   * Where an element of the cloud inputs is written. A finding about it
   * names `object` and the field `pointer`.
   */
  export interface CloudOrigin {
    /**
     * The object standing for its file (`source-object.id`, kind
     * `TerraformPlan`, `TerraformState` or `AwsCliOutput`).
     */
    object: number,
    /**
     * A JSON pointer into that file.
     */
    pointer: string,
    /**
     * Its Terraform address, or its cloud ID.
     */
    address: string,
  }
  /**
   * One step of a verdict: what decided, and where it is written.
   */
  export interface Hop {
    /**
     * For people: `route 0.0.0.0/0 → NAT gateway aws_nat_gateway.a`.
     */
    what: string,
    /**
     * Absent for what no input writes (AWS's defaults).
     */
    origin?: CloudOrigin,
  }
  /**
   * The parts of the cluster the policy set places on an element.
   */
  export interface ClusterParts {
    /**
     * The nodes (and pods whose traffic leaves with the node's
     * address).
     */
    nodes: boolean,
    /**
     * Pods with addresses of their own (VPC-native).
     */
    pods: boolean,
    /**
     * The proxy.
     */
    proxy: boolean,
  }
  /**
   * Where the route for a destination leads.
   */
  export type RouteExit = RouteExitInternet | RouteExitLocal | RouteExitElsewhere | RouteExitNoRoute | RouteExitUnknown;
  /**
   * The internet: an internet gateway, a NAT gateway whose subnet
   * reaches one, an egress-only gateway (IPv6).
   */
  export interface RouteExitInternet {
    tag: 'internet',
  }
  /**
   * Stays in the VPC.
   */
  export interface RouteExitLocal {
    tag: 'local',
  }
  /**
   * Leaves the VPC for a network beyond the inputs (peering,
   * transit or VPN gateway, endpoint).
   */
  export interface RouteExitElsewhere {
    tag: 'elsewhere',
  }
  /**
   * No route matches: dropped.
   */
  export interface RouteExitNoRoute {
    tag: 'no-route',
  }
  /**
   * The inputs do not settle it, and why.
   */
  export interface RouteExitUnknown {
    tag: 'unknown',
    val: string,
  }
  /**
   * A VPC.
   */
  export interface Vpc {
    /**
     * Its key.
     */
    key: string,
    /**
     * Its CIDRs (IPv4 and IPv6), as far as the inputs give them.
     */
    cidrs: Array<string>,
    /**
     * Whether a flow log records its traffic; `err`: why the inputs
     * do not tell (AWS CLI output without `describe-flow-logs`).
     */
    flowLogs: Result<boolean, string>,
    /**
     * Whether its default security group allows nothing (with the
     * hop that decides); `err`: why the inputs do not tell.
     */
    defaultGroupRestricted: Result<[boolean, Hop], string>,
    /**
     * Where it is written.
     */
    origin: CloudOrigin,
  }
  /**
   * A route of a subnet that carries some public destination out to
   * the internet.
   */
  export interface InternetRoute {
    /**
     * The route's destination CIDR.
     */
    destination: string,
    /**
     * A public address it carries (no more specific route takes it).
     */
    probe: string,
    /**
     * `internet`, or `unknown` and why.
     */
    exit: RouteExit,
    /**
     * The route, and through a NAT gateway the route of its subnet.
     */
    hops: Array<Hop>,
  }
  /**
   * A subnet.
   */
  export interface Subnet {
    /**
     * Its key.
     */
    key: string,
    /**
     * Its cloud ID (`subnet-0abc`), when known.
     */
    id?: string,
    /**
     * Its VPC's key, when the inputs link it.
     */
    vpc?: string,
    /**
     * Its CIDRs (IPv4 and IPv6).
     */
    cidrs: Array<string>,
    /**
     * Instances launched in it get a public IPv4 address.
     */
    mapPublicIpOnLaunch: boolean,
    /**
     * The parts of the cluster placed in it.
     */
    parts: ClusterParts,
    /**
     * Its routes that carry some public destination to the internet
     * (IPv4 and IPv6); `err`: why its route table is not known.
     */
    internetRoutes: Result<Array<InternetRoute>, string>,
    /**
     * Where it is written.
     */
    origin: CloudOrigin,
  }
  /**
   * Who a security-group rule admits.
   */
  export type GroupPeer = GroupPeerCidr | GroupPeerGroup | GroupPeerPrefixList | GroupPeerUnknown;
  /**
   * An IPv4 or IPv6 CIDR.
   */
  export interface GroupPeerCidr {
    tag: 'cidr',
    val: string,
  }
  /**
   * Members of another security group (its key).
   */
  export interface GroupPeerGroup {
    tag: 'group',
    val: string,
  }
  /**
   * A managed prefix list.
   */
  export interface GroupPeerPrefixList {
    tag: 'prefix-list',
    val: string,
  }
  /**
   * Not determined by the inputs, and why.
   */
  export interface GroupPeerUnknown {
    tag: 'unknown',
    val: string,
  }
  /**
   * One rule of a security group: stateful, allow only.
   */
  export interface GroupRule {
    /**
     * Egress (else ingress).
     */
    egress: boolean,
    /**
     * `all`, `tcp`, `udp`, `icmp`, `icmpv6`, or a protocol number.
     */
    protocol: string,
    /**
     * The first port (TCP and UDP; 0 otherwise).
     */
    firstPort: number,
    /**
     * The last port.
     */
    lastPort: number,
    /**
     * Who it admits.
     */
    peer: GroupPeer,
    /**
     * Where it is written.
     */
    origin: CloudOrigin,
  }
  /**
   * A security group.
   */
  export interface SecurityGroup {
    /**
     * Its key.
     */
    key: string,
    /**
     * Its cloud ID, when known.
     */
    id?: string,
    /**
     * Its name.
     */
    name: string,
    /**
     * Its VPC's key, when the inputs link it.
     */
    vpc?: string,
    /**
     * A VPC's default group.
     */
    isDefault: boolean,
    /**
     * The parts of the cluster that carry it.
     */
    parts: ClusterParts,
    /**
     * Its rules, inline and standalone.
     */
    rules: Array<GroupRule>,
    /**
     * Where it is written.
     */
    origin: CloudOrigin,
  }
  /**
   * Where a workload's traffic leaves from.
   */
  export interface Placement {
    /**
     * The subnets (keys): any replica may run in any of them.
     */
    subnets: Array<string>,
    /**
     * The security groups (keys) its traffic carries.
     */
    securityGroups: Array<string>,
    /**
     * The part of the cluster it is placed as.
     */
    part: ClusterParts,
  }
  /**
   * A verdict.
   */
  export type Outcome = OutcomeAllowed | OutcomeDenied | OutcomeUnknown;
  /**
   * Allowed.
   */
  export interface OutcomeAllowed {
    tag: 'allowed',
  }
  /**
   * Denied.
   */
  export interface OutcomeDenied {
    tag: 'denied',
  }
  /**
   * Not settled by the inputs, and why.
   */
  export interface OutcomeUnknown {
    tag: 'unknown',
    val: string,
  }
  /**
   * Whether a connection can be opened, and how.
   */
  export interface ReachVerdict {
    /**
     * Allowed, denied, or unknown and why.
     */
    outcome: Outcome,
    /**
     * Where the route leads.
     */
    exit: RouteExit,
    /**
     * Every hop that decides, in order: route (through a NAT gateway,
     * its subnet's route), security groups, network ACLs both ways.
     */
    hops: Array<Hop>,
  }
  export type Result<T, E> = { tag: 'ok', val: T } | { tag: 'err', val: E };
}
