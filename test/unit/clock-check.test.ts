import test from 'ava';
import { clockDrift } from '../../lab/vm/clock-check.js';

test('a guest clock within 3% of the host over the boot passes; beyond that, the factor is named', (t) => {
  t.is(clockDrift(60.9, 60, '6.1'), undefined);
  t.is(clockDrift(58.5, 60, '6.1'), undefined);
  t.regex(clockDrift(62.5, 60, '6.1')!, /^6\.1: the guest's clock ran at 1\.042x the host's/);
  t.regex(clockDrift(2.8, 60, '6.1')!, /ran at 0\.047x/);
});

test('a boot too short to judge, or without a reading, is not judged', (t) => {
  t.is(clockDrift(9, 4.9, '6.1'), undefined);
  t.is(clockDrift(0, 60, '6.1'), undefined);
  t.is(clockDrift(Number.NaN, 60, '6.1'), undefined);
});
