import type { ScenarioDefinition } from './define.js';
import type { CrossRatio } from '../lab/results/ratios.js';
import ringbufThroughput from './ringbuf-throughput.js';
import perfbufThroughput from './perfbuf-throughput.js';
import ringbufLatency from './ringbuf-latency.js';
import kprobeOverhead from './kprobe-overhead.js';
import tracepointOverhead from './tracepoint-overhead.js';
import mapOperationLatency from './map-operation-latency.js';
import kernelBench from './kernel-bench.js';
import uprobeTracing from './uprobe-tracing.js';
import stackTraceCollection from './stack-trace-collection.js';
import perfEventSampling from './perf-event-sampling.js';
import memoryUsage from './memory-usage.js';
import mapTypes from './map-types.js';
import multiProgramAttachment from './multi-program-attachment.js';
import { netScenarios, NET_SUITE } from './net.js';

/** Every scenario the lab knows, by id. */
export const scenarios: ScenarioDefinition[] = [ringbufThroughput, perfbufThroughput, ringbufLatency, kprobeOverhead, tracepointOverhead, mapOperationLatency];
scenarios.push(...netScenarios, kernelBench, uprobeTracing, stackTraceCollection, perfEventSampling, memoryUsage, mapTypes, multiProgramAttachment);

/** Named suites: lists of scenario ids. */
export const suites: Record<string, string[]> = {
  phase1: ['ringbuf-throughput', 'perfbuf-throughput', 'ringbuf-latency', 'kprobe-overhead', 'tracepoint-overhead', 'map-operation-latency'],
  net: NET_SUITE,
  phase2: ['uprobe-tracing', 'stack-trace-collection', 'perf-event-sampling', 'memory-usage', 'map-types', 'multi-program-attachment'],
};
suites.all = [...new Set([...suites.phase1, ...suites.net, ...suites.phase2])];

export const DEFAULT_SUITE = 'phase1';

export function scenarioById(id: string): ScenarioDefinition | undefined {
  return scenarios.find((s) => s.id === id);
}

/** Ratios across scenarios at equal settings, reported beside the same ratio from published numbers. */
export const crossRatioDefs: CrossRatio[] = [
  {
    title: 'ring buffer / perf buffer events/s (rb-libbpf vs pb-libbpf)',
    metric: 'events_per_s',
    numerator: { scenario: 'ringbuf-throughput', variant: 'ringbuf', fixed: { api: 'reserve', consumer: 'libbpf' } },
    denominator: { scenario: 'perfbuf-throughput', variant: 'perfbuf' },
    on: ['hook', 'recordSize', 'batch', 'producers', 'wakeup', 'placement'],
  },
];
