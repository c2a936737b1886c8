import type { ScenarioDefinition } from './define.js';
import ringbufThroughput from './ringbuf-throughput.js';

/** Every scenario the lab knows, by id. */
export const scenarios: ScenarioDefinition[] = [ringbufThroughput];

/** Named suites: lists of scenario ids. */
export const suites: Record<string, string[]> = {
  phase1: ['ringbuf-throughput'],
};

export const DEFAULT_SUITE = 'phase1';

export function scenarioById(id: string): ScenarioDefinition | undefined {
  return scenarios.find((s) => s.id === id);
}
