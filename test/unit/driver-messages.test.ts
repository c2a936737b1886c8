/* The driver → agent path for warnings and skips, end to end on the host: a real C program built against the
 * drivers' own common.h prints the JSON lines; the agent's runDriver (makeContext) turns them into protocol messages. */
import test from 'ava';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { makeContext } from '../../lab/agent/context.js';
import { execCommand, howItEnded } from '../../lab/agent/command.js';
import { ScenarioSkip } from '../../scenarios/define.js';
import { GuestMessage } from '../../lab/agent/protocol.js';
import { repoRoot } from '../../lab/host/paths.js';

const PROGRAM = `#include "common.h"
int main(int argc, char **argv)
{
	opts_init(argc, argv);
	const char *mode = opt_str("mode", "partial");
	if (!strcmp(mode, "whole")) { emit_skip("no \\"tracing\\" programs"); return 0; }
	emit_sample("baseline", "ns_per_call", "ns", 10.5, 0);
	emit_warn("hash lookup: %d of %d ops succeeded", 255, 256);
	if (!strcmp(mode, "partial")) emit_skip_variant("fentry", "load failed: \\"Invalid argument\\"\\nline 2");
	if (!strcmp(mode, "tail")) emit_skip("attach failed");
	emit_sample("kprobe", "ns_per_call", "ns", 20.5, 0);
	return 0;
}
`;

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-drvmsg-'));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'fake.c'), PROGRAM);
  const r = await execCommand(['cc', '-O1', '-Wall', '-Wno-unused-function', `-I${join(repoRoot, 'bpf', 'drivers')}`, '-o', join(dir, 'bin', 'fake'), join(dir, 'fake.c'), join(repoRoot, 'bpf', 'drivers', 'core', 'output.c'), '-lbpf', '-lpthread'], 60000);
  if (r.code !== 0) throw new Error(`cc failed: ${r.stderr}`);
});
test.after.always(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

async function drive(mode: string): Promise<{ messages: GuestMessage[]; error?: unknown }> {
  const messages: GuestMessage[] = [];
  // every message must satisfy the protocol schema the host parses with
  const ctx = makeContext({ id: 7, quick: true, buildDir: dir, features: null, send: (m) => messages.push(GuestMessage.parse(JSON.parse(JSON.stringify(m)))) });
  try { await ctx.runDriver('fake', ['--mode', mode]); return { messages }; } catch (error) { return { messages, error }; }
}

test('warn lines become warning messages; a skip naming a variant keeps the run and what was measured', async (t) => {
  const { messages, error } = await drive('partial');
  t.is(error, undefined);
  t.deepEqual(messages.map((m) => m.type), ['sample', 'warning', 'skipped', 'sample']);
  t.like(messages[1], { type: 'warning', msg: 'fake: hash lookup: 255 of 256 ops succeeded' });
  t.like(messages[2], { type: 'skipped', variant: 'fentry', reason: 'load failed:  Invalid argument  line 2' });
});

test('a skip without a variant after samples skips the rest only; before any sample it skips the whole run', async (t) => {
  const tail = await drive('tail');
  t.is(tail.error, undefined);
  t.like(tail.messages.find((m) => m.type === 'skipped'), { reason: 'attach failed' });
  t.is(tail.messages.filter((m) => m.type === 'sample').length, 2);
  const whole = await drive('whole');
  t.true(whole.error instanceof ScenarioSkip);
  t.is((whole.error as Error).message, 'no  tracing  programs');
  t.is(whole.messages.length, 0);
});

test('a command a signal ends is reported by its signal, with the shell\'s 128 + n status', async (t) => {
  const r = await execCommand(['sh', '-c', 'kill -SEGV $$'], 10000);
  t.is(r.signal, 'SIGSEGV');
  t.is(r.code, 128 + 11);
  t.is(howItEnded(r), 'was killed by SIGSEGV');
  const ok = await execCommand(['sh', '-c', 'exit 3'], 10000);
  t.is(ok.signal, undefined);
  t.is(howItEnded(ok), 'exited 3');
});
