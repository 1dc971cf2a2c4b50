declare module 'palisade:policy/observed@0.2.3' {
  /**
   * Every call of the logs, in the order first seen.
   */
  export function observedCalls(): Array<ObservedCall>;
  /**
   * How squid answered.
   * # Variants
   * 
   * ## `"allowed"`
   * 
   * `http_access` let it through (whatever the server then said).
   * ## `"denied"`
   * 
   * `http_access` denied it (`TCP_DENIED`).
   * ## `"error"`
   * 
   * Squid could not read the request (no destination).
   */
  export type CallVerdict = 'allowed' | 'denied' | 'error';
  /**
   * Where a client address belongs.
   */
  export type CallClient = CallClientWorkload | CallClientNamespace | CallClientClientRange | CallClientUnattributed;
  /**
   * A workload (`facts.workloads()` index): its pod addresses, a
   * bare Pod counted as its controller when the inputs hold it.
   */
  export interface CallClientWorkload {
    tag: 'workload',
    val: number,
  }
  /**
   * A namespace whose address pool holds it (`roles.namespaceCidrs`).
   */
  export interface CallClientNamespace {
    tag: 'namespace',
    val: string,
  }
  /**
   * The proxy's client range that holds it (`roles.proxy.clientCidrs`).
   */
  export interface CallClientClientRange {
    tag: 'client-range',
    val: string,
  }
  /**
   * None of these.
   */
  export interface CallClientUnattributed {
    tag: 'unattributed',
  }
  /**
   * A client's requests of one method to one destination with one
   * verdict.
   */
  export interface ObservedCall {
    /**
     * The object standing for the log of its first request (kind
     * `ProxyAccessLog`); a finding about the call names it with
     * `location::line(line)`.
     */
    log: number,
    /**
     * That request's line.
     */
    line: number,
    /**
     * The client address, as logged.
     */
    clientAddress?: string,
    /**
     * Where it belongs.
     */
    client: CallClient,
    /**
     * The method (`CONNECT`, `GET`).
     */
    method: string,
    /**
     * The destination host (lower case) or IP literal; empty for
     * requests squid could not read.
     */
    host: string,
    /**
     * The destination port.
     */
    port: number,
    /**
     * Squid's verdict.
     */
    verdict: CallVerdict,
    /**
     * How many requests.
     */
    count: bigint,
    /**
     * Bytes sent to the client, in all.
     */
    bytes: bigint,
    /**
     * When the first and the last request were logged: milliseconds
     * since the epoch.
     */
    firstSeen?: bigint,
    lastSeen?: bigint,
    /**
     * Squid's result codes and statuses, with counts (`TCP_TUNNEL/200`).
     */
    results: Array<[string, bigint]>,
    /**
     * The server addresses squid connected to (`%<a`; at most four):
     * what a destination name resolved to.
     */
    serverAddresses: Array<string>,
  }
}
