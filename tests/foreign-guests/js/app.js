// A JavaScript plugin that tries to leave the sandbox: its `behaviour`
// setting says how. Built with every WASI feature disabled, as the SDK's
// build does; every attempt must end in a contained failure, or answer
// with nothing of the host's (StarlingMonkey's clock and random are frozen
// at build time).

import { definePlugin, report, setting } from './sdk/palisade.js';

const p = definePlugin({
  id: 'hostile-js',
  version: '0.0.0',
  description: 'Tries to leave the sandbox',
  settings: { behaviour: setting.text('ok', 'What to try') },
});

async function noop() {}

function attempt(behaviour, cx) {
  switch (behaviour) {
    case 'file': return String(globalThis.require?.('fs')?.readFileSync('/etc/hostname') ?? import('/etc/hostname'));
    case 'socket': return String(globalThis.fetch('http://127.0.0.1:22/'));
    case 'env': return JSON.stringify(globalThis.process?.env ?? null);
    case 'clock': return `${Date.now()} ${typeof performance === 'undefined' ? '-' : performance.now()}`;
    case 'random': return `${Math.random()} ${globalThis.crypto?.getRandomValues?.(new Uint8Array(4))}`;
    case 'facts': return factsSeen(cx);
    case 'ok':
      console.log(`saw ${cx.facts.objects().length} objects`);
      noop();
      return 'ok';
    default: throw new Error(`unknown behaviour ${behaviour}`);
  }
}

// The cloud and access-log facts (contracts 0.2.2 and 0.2.3), summed up
// the same way as the Python guest does.
function factsSeen(cx) {
  const f = cx.facts;
  const subnets = f.subnets();
  const calls = f.observedCalls();
  const allowed = calls.filter((c) => c.verdict === 'allowed').length;
  const placed = f.workloads().filter((w) => f.workloadPlacement(w.id) !== undefined);
  const workloadSubnets = subnets.filter((s) => s.parts.nodes).map((s) => s.key).sort();
  let reach = '-';
  if (workloadSubnets.length > 0) {
    const groups = f.securityGroups().filter((g) => g.parts.nodes).map((g) => g.key);
    reach = f.reach(workloadSubnets[0], groups, '93.184.216.34', 'tcp', 443).outcome.tag;
  }
  return `${f.vpcs().length} vpcs, ${subnets.length} subnets, ${f.securityGroups().length} groups, `
    + `${calls.length} calls (${allowed} allowed), ${placed.length} placed, reach ${reach}`;
}

p.rule({ id: 'HOSTILEJS001', name: 'hostile', severity: 'warning', summary: 'Reports what it got', doc: 'Reports what it got.' },
  (cx) => [report(0, attempt(cx.settings.behaviour, cx))]);

export const plugin = p.export();
