import test from 'ava';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout, qemuProcesses } from './helpers.js';
import { resolveKernels } from '../lab/kernels/catalog.js';
import { prepareHost, planGuest, bootGuest } from '../lab/vm/session.js';
import { qemuVersion } from '../lab/vm/qemu-version.js';
import { LabEvents } from '../lab/events.js';

// The VM lifecycle: clean poweroff, exec without the agent, hung requests, Ctrl-C, a checkout path that has spaces
// and a quote in it (the guest gets its paths through files, never through a shell string or the kernel command line).
const as = unprivilegedCheckout("bpf lab's vm test", { alwaysCopy: true });

/** QEMUs started from this checkout (other test files may run VMs as the same test user at the same time). */
const ourQemus = () => qemuProcesses(as.user, as.cwd);

test.serial('exec from a checkout path with spaces and a quote: stdout, stderr and status come back; the guest powers itself off', async (t) => {
  const consoleLog = join(as.cwd, 'exec console.log');
  process.env.LAB_EXEC_CONSOLE = consoleLog;
  try {
    const r = await lab(['exec', '--kernel', '6.1', '--json', '--', 'sh', '-c', 'echo "out:$1:$PWD"; echo err >&2; exit 3', 'x', 'a  b'], as);
    const last = JSON.parse(r.lastLine) as { code: number; stdout: string; stderr: string; poweredOff: boolean };
    t.is(r.code, 3, r.stderr);
    t.is(last.stdout, `out:a  b:${as.cwd}\n`);
    t.is(last.stderr, 'err\n');
    t.true(last.poweredOff, 'QEMU exited by itself, not by the lab killing it');
    const c = readFileSync(consoleLog, 'utf8');
    t.regex(c, /lab-init: \[[\d.]+\] command exited; powering off/);
    t.regex(c, /reboot: Power down/);
  } finally {
    delete process.env.LAB_EXEC_CONSOLE;
  }
  t.deepEqual(ourQemus(), []);
});

test.serial('a run from that checkout: the agent exits, the guest powers off by itself, the manifest times the shutdown', async (t) => {
  const r = await lab(['--kernel', '6.1', '--scenario', 'tracepoint-overhead', '--quick', '--out', join(as.cwd, 'results')], as);
  t.is(r.code, 0, r.stderr);
  const c = readFileSync(join(r.lastLine, 'console.log'), 'utf8');
  t.regex(c, /lab-init: \[[\d.]+\] agent exited with 0; powering off/);
  t.regex(c, /reboot: Power down/);
  const m = JSON.parse(readFileSync(join(r.lastLine, 'manifest.json'), 'utf8'));
  t.true(m.timings.phases['shutdown_6.1'] >= 0);
  t.false((m.warnings as string[]).some((w) => /did not power off/.test(w)), m.warnings.join('\n'));
  t.true(readCsv(join(r.lastLine, 'results.csv')).length > 0);
  // under TCG the guest keeps the TSC (tsc=reliable), and its clock agreed with the host's over the boot
  // (tsc-early until the kernel's refined calibration, about a second after the device initcalls)
  if (m.accel.accel === 'tcg') t.regex(m.kernels[0].clocksource, /^tsc(-early)?$/);
  else t.truthy(m.kernels[0].clocksource);
  t.false((m.warnings as string[]).some((w) => /the guest's clock ran at/.test(w)), m.warnings.join('\n'));
});

test.serial('Ctrl-C after the first measured run writes results, summary, report and a manifest that says so (exit 130)', async (t) => {
  let sent = false;
  const r = await lab(['--kernel', '6.1', '--scenario', 'tracepoint-overhead,ringbuf-throughput', '--quick', '--out', join(as.cwd, 'results')], as, {
    onStderr: (s, kill) => { if (!sent && /: \d+ samples/.test(s)) { sent = true; kill(); } },
  });
  t.true(sent, r.stderr);
  t.regex(r.stderr, /interrupted \(SIGINT\)/);
  const dir = /partial results in (\S+)\)|^(\/\S+)$/m.exec(r.stdout + r.stderr);
  const runDir = r.lastLine.startsWith('/') ? r.lastLine : dir?.[1];
  t.truthy(runDir, r.stdout + r.stderr);
  const m = JSON.parse(readFileSync(join(runDir!, 'manifest.json'), 'utf8'));
  t.is(m.exitStatus, 130);
  t.true((m.warnings as string[]).some((w) => /interrupted by SIGINT/.test(w)));
  t.true(readCsv(join(runDir!, 'results.csv')).length > 0, 'the run measured before the interrupt is kept');
  for (const f of ['summary.csv', 'report.md']) t.true(existsSync(join(runDir!, f)), f);
  await new Promise((res) => setTimeout(res, 500));
  t.deepEqual(ourQemus(), []);
});

test.serial('a hung request stops the VM (console kept); the next request runs in a fresh boot', async (t) => {
  const [k] = resolveKernels('6.1');
  const ui = new LabEvents();
  const consolePath = join(as.cwd, 'hang console.log');
  const host = await prepareHost([k], ui);
  const plan = await planGuest(host, k, { accel: 'auto', cpus: 1, memoryMb: 1024, consolePath }, ui, await qemuVersion());
  const vm = await bootGuest(plan, k, ui);
  const e = await t.throwsAsync(vm.request({ op: 'exec', argv: ['sleep', '600'], timeoutMs: 700000 }, {}, 3000));
  t.regex(e!.message, /request 'exec' got no answer within 3 s; the VM was stopped/);
  t.false(vm.alive);
  t.false(vm.exitedBySelf);
  const fresh = await bootGuest(plan, k, ui);
  const r = (await fresh.request({ op: 'exec', argv: ['echo', 'fresh boot'] }, {}, 60000)) as { code: number; stdout: string };
  t.deepEqual([r.code, r.stdout], [0, 'fresh boot\n']);
  t.true(await fresh.shutdown(), 'the fresh guest powers off by itself');
  t.is(readFileSync(consolePath, 'utf8').match(/--- bpf-lab: boot at/g)?.length, 2, 'both boots are in the console log');
});
