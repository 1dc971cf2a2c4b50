/// <reference path="./interfaces/palisade-policy-cloud.d.ts" />
/// <reference path="./interfaces/palisade-policy-facts.d.ts" />
/// <reference path="./interfaces/palisade-policy-log.d.ts" />
/// <reference path="./interfaces/palisade-policy-observed.d.ts" />
/// <reference path="./interfaces/palisade-policy-plugin.d.ts" />
/// <reference path="./interfaces/palisade-policy-ports.d.ts" />
/// <reference path="./interfaces/palisade-policy-types.d.ts" />
declare module 'palisade:policy/policy-plugin@0.2.3' {
  export type * as PalisadePolicyCloud023 from 'palisade:policy/cloud@0.2.3'; // import palisade:policy/cloud@0.2.3
  export type * as PalisadePolicyFacts023 from 'palisade:policy/facts@0.2.3'; // import palisade:policy/facts@0.2.3
  export type * as PalisadePolicyLog023 from 'palisade:policy/log@0.2.3'; // import palisade:policy/log@0.2.3
  export type * as PalisadePolicyObserved023 from 'palisade:policy/observed@0.2.3'; // import palisade:policy/observed@0.2.3
  export type * as PalisadePolicyPorts023 from 'palisade:policy/ports@0.2.3'; // import palisade:policy/ports@0.2.3
  export type * as PalisadePolicyTypes023 from 'palisade:policy/types@0.2.3'; // import palisade:policy/types@0.2.3
  export * as plugin from 'palisade:policy/plugin@0.2.3'; // export palisade:policy/plugin@0.2.3
}
