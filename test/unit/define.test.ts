import test from 'ava';
import { defineScenario, higher, lower, none, type ScenarioDefinition } from '../../scenarios/define.js';
import { scenarios } from '../../scenarios/index.js';

const base: ScenarioDefinition = {
  id: 'shape-check', title: 't', description: 'd', requires: { kernel: '5.8' }, params: { n: [1, 2] },
  metrics: { events_per_s: higher('events/s'), ns_per_op: lower('ns'), records: none('records') },
  run: async () => undefined, estimateS: () => 1, references: [],
};

test('defineScenario accepts a well-formed table and every registered scenario declares a direction per metric', (t) => {
  t.is(defineScenario(base), base);
  for (const s of scenarios) {
    for (const [name, m] of Object.entries(s.metrics)) t.true(['higher', 'lower', 'none'].includes(m.better), `${s.id}.${name}`);
  }
});

test('defineScenario rejects bad definitions at registration, naming the field', (t) => {
  const bad = (patch: Partial<ScenarioDefinition> | Record<string, unknown>) => () => defineScenario({ ...base, ...patch } as ScenarioDefinition);
  t.throws(bad({ metrics: { events_per_s: 'events/s' } }), { message: /shape-check.*metrics\.events_per_s/ });
  t.throws(bad({ metrics: { events_per_s: { unit: 'events/s', better: 'up' } } }), { message: /metrics\.events_per_s\.better/ });
  t.throws(bad({ metrics: { EventsPerS: higher('events/s') } }), { message: /snake_case/ });
  t.throws(bad({ params: { n: [] } }), { message: /params\.n/ });
  t.throws(bad({ quickParams: { m: [1] } }), { message: /quickParams key 'm'/ });
  t.throws(bad({ references: [{ metric: 'pps', variant: 'v', value: 1, unit: 'packets/s', source: 's', setup: 'x' }] }), { message: /reference metric 'pps'/ });
  t.throws(bad({ references: [{ metric: 'ns_per_op', variant: 'v', value: 1, unit: 'us', source: 's', setup: 'x' }] }), { message: /in us, the metric in ns/ });
});
