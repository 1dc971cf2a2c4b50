/// <reference path="./palisade-policy-types.d.ts" />
declare module 'palisade:policy/ports@0.2.3' {
  /**
   * The ports rule `rule` of policy `policy` (in `direction`) admits
   * towards workload `destination`, named ports resolved on that
   * workload's containers (a name it does not declare admits nothing);
   * absent: every port and protocol.
   */
  export function resolvedPorts(policy: number, direction: Direction, rule: number, destination: number): Array<PortRange> | undefined;
  export type Direction = import('palisade:policy/types@0.2.3').Direction;
  export type Protocol = import('palisade:policy/types@0.2.3').Protocol;
  /**
   * An inclusive range of ports of one protocol.
   */
  export interface PortRange {
    /**
     * The protocol.
     */
    protocol: Protocol,
    /**
     * The first port.
     */
    first: number,
    /**
     * The last port (equal to `first` for one port).
     */
    last: number,
  }
}
