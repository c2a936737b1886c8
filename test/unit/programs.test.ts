import test from 'ava';
import { summarizeRows, type ResultRow } from '../../lab/results/csv.js';
import { programRows } from '../../lab/results/programs.js';

const row = (over: Partial<ResultRow>): ResultRow => ({
  run_id: 'r', kernel: '6.1', kernel_release: '6.1.0', accel: 'tcg', vcpus: 2, scenario: 's', variant: 'v', params: 'n=1',
  repetition: 0, metric: 'verified_insns', unit: 'insns', value: 1, ...over,
});
const lookup = () => ({ references: [], metrics: {} });
const prog = (params: string, insns: number, verifyUs: number, name = 'prog:p') => [
  row({ variant: name, params, metric: 'verified_insns', value: insns }),
  row({ variant: name, params, metric: 'verifier_states', unit: 'states', value: 2 }),
  row({ variant: name, params, metric: 'xlated_bytes', unit: 'bytes', value: 48 }),
  row({ variant: name, params, metric: 'jited_bytes', unit: 'bytes', value: 36 }),
  row({ variant: name, params, metric: 'verify_us', unit: 'us', value: verifyUs }),
];

test('program table: runs whose program verified the same merge into one row, a different shape gets its own, other variants stay out', (t) => {
  const rows = [
    ...prog('n=1', 5, 10), ...prog('n=2', 5, 30), ...prog('n=3', 9, 7),
    row({ variant: 'object:o', metric: 'load_ms', unit: 'ms', value: 12 }),
    row({ variant: 'baseline', metric: 'ns_per_call', unit: 'ns', value: 3 }),
  ];
  const out = programRows(summarizeRows(rows, [], lookup));
  t.is(out.length, 2);
  t.like(out.find((r) => r.verifiedInsns === 5), { program: 'p', params: ['n=1', 'n=2'], verifierStates: 2, xlatedBytes: 48, jitedBytes: 36, verifyUs: 20 });
  t.like(out.find((r) => r.verifiedInsns === 9), { params: ['n=3'], verifyUs: 7 });
});

test('program table: memlock is part of the shape; run_cnt and ns_per_run are medians over the merged runs where it ran', (t) => {
  const runs = (params: string, cnt: number, perRun?: number) => [
    row({ variant: 'prog:p', params, metric: 'memlock_bytes', unit: 'bytes', value: 4096 }),
    row({ variant: 'prog:p', params, metric: 'run_cnt', unit: 'runs', value: cnt }),
    ...(perRun === undefined ? [] : [row({ variant: 'prog:p', params, metric: 'ns_per_run', unit: 'ns', value: perRun })]),
  ];
  const rows = [
    ...prog('n=1', 5, 10), ...runs('n=1', 100, 50), ...prog('n=2', 5, 10), ...runs('n=2', 300, 70),
    ...prog('n=3', 5, 10), row({ variant: 'prog:p', params: 'n=3', metric: 'memlock_bytes', unit: 'bytes', value: 8192 }),
    row({ variant: 'prog:p', params: 'n=3', metric: 'run_cnt', unit: 'runs', value: 0 }),
    // ran in one of two runs: the count where it ran, beside its time per run
    ...prog('n=4', 7, 10), ...runs('n=4', 0), ...prog('n=5', 7, 10), ...runs('n=5', 40, 90),
  ];
  const out = programRows(summarizeRows(rows, [], lookup));
  t.is(out.length, 3);
  t.like(out.find((r) => r.memlockBytes === 4096 && r.verifiedInsns === 5), { params: ['n=1', 'n=2'], runCnt: 200, nsPerRun: 60 });
  t.like(out.find((r) => r.verifiedInsns === 7), { params: ['n=4', 'n=5'], runCnt: 40, nsPerRun: 90 });
  t.like(out.find((r) => r.memlockBytes === 8192), { params: ['n=3'], runCnt: 0, nsPerRun: undefined });
});
