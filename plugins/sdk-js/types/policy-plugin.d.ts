/// <reference path="./interfaces/palisade-policy-cloud.d.ts" />
/// <reference path="./interfaces/palisade-policy-facts.d.ts" />
/// <reference path="./interfaces/palisade-policy-log.d.ts" />
/// <reference path="./interfaces/palisade-policy-plugin.d.ts" />
/// <reference path="./interfaces/palisade-policy-ports.d.ts" />
/// <reference path="./interfaces/palisade-policy-types.d.ts" />
declare module 'palisade:policy/policy-plugin@0.2.2' {
  export type * as PalisadePolicyCloud022 from 'palisade:policy/cloud@0.2.2'; // import palisade:policy/cloud@0.2.2
  export type * as PalisadePolicyFacts022 from 'palisade:policy/facts@0.2.2'; // import palisade:policy/facts@0.2.2
  export type * as PalisadePolicyLog022 from 'palisade:policy/log@0.2.2'; // import palisade:policy/log@0.2.2
  export type * as PalisadePolicyPorts022 from 'palisade:policy/ports@0.2.2'; // import palisade:policy/ports@0.2.2
  export type * as PalisadePolicyTypes022 from 'palisade:policy/types@0.2.2'; // import palisade:policy/types@0.2.2
  export * as plugin from 'palisade:policy/plugin@0.2.2'; // export palisade:policy/plugin@0.2.2
}
