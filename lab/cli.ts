#!/usr/bin/env node
import { parseCommand, wantsContainer, USAGE } from './args.js';
import { UsageError, LabError, errorMessage } from './errors.js';
import { loadCatalog } from './kernels/catalog.js';
import { killAll } from './vm/children.js';
import { pathWithSbin } from './host/spawn.js';
import { join } from 'node:path';
// each command imports only what it uses: the report renderer alone takes ~1 s to load on a busy host, and
// `exec` needs none of it

async function main(argv: string[]): Promise<number> {
  const catalog = loadCatalog();
  const { DEFAULT_SUITE } = await import('../scenarios/index.js');
  const c = parseCommand(argv, { kernel: catalog.default, suite: DEFAULT_SUITE });
  if (c.cmd !== 'help' && wantsContainer(argv)) {
    const verbose = 'verbose' in c && c.verbose;
    const { containerPlan } = await import('./container/plan.js');
    const { runInContainer } = await import('./container/runner.js');
    return runInContainer(containerPlan(c, argv, process.cwd()), { verbose, base: process.env.LAB_CONTAINER_BASE });
  }
  switch (c.cmd) {
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    case 'kernels':
      process.stdout.write(await (await import('./listing.js')).listKernels(c.json));
      return 0;
    case 'kernels-build': {
      const { kernelsBuild } = await import('./kernels/build-command.js');
      const r = await kernelsBuild(c, (m) => process.stderr.write(`bpf-lab: ${m}\n`));
      process.stdout.write(c.json ? JSON.stringify(r, null, 2) + '\n' : `${r.name}\n`);
      return 0;
    }
    case 'scenarios':
      process.stdout.write((await import('./listing.js')).listScenarios(c.json));
      return 0;
    case 'run': {
      const r = await (await import('./run.js')).runLab({ ...c, argv, listeners: await eventConsumers(c) });
      process.stdout.write(r.runDir + '\n');
      return r.exitStatus;
    }
    case 'exec': {
      const r = await (await import('./vm/exec-in-guest.js')).execInGuest(c);
      if (c.json) process.stdout.write(JSON.stringify(r) + '\n');
      else {
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
      }
      return r.code;
    }
    case 'reproduce': {
      const r = await (await import('./results/reproduce.js')).reproduceRun({ ...c, argv, listeners: await eventConsumers({ ...c, json: false }) });
      if (r.comparison) process.stderr.write(r.comparison.text);
      if (c.json) process.stdout.write(JSON.stringify({ runDir: r.runDir, exitStatus: r.exitStatus, differences: r.differences, regressions: r.comparison?.regressions, compareError: r.compareError }) + '\n');
      process.stdout.write(r.runDir + '\n');
      return r.exitStatus;
    }
    case 'report': {
      const { scenarioById } = await import('../scenarios/index.js');
      const { writeReport, loadRunForReport } = await import('./results/write-report.js');
      await writeReport(c.runDir, await loadRunForReport(c.runDir, scenarioById));
      process.stdout.write(join(c.runDir, 'report.html') + '\n');
      return 0;
    }
    case 'compare': {
      const r = await (await import('./results/compare.js')).compareRuns(c.a, c.b, c.threshold);
      process.stdout.write(c.json ? JSON.stringify(r, null, 2) + '\n' : r.text);
      return r.regressions > 0 ? 1 : 0;
    }
    case 'plan':
      process.stdout.write(JSON.stringify((await import('./scale/plan.js')).planShards(c)) + '\n');
      return 0;
    case 'merge': {
      const r = await (await import('./results/merge.js')).mergeRuns(c.dirs, { out: c.out, allowMixed: c.allowMixed, argv });
      for (const d of r.differences) process.stderr.write(`bpf-lab: merged anyway: ${d}\n`);
      if (c.json) process.stdout.write(JSON.stringify({ runDir: r.runDir, sources: r.manifest.merged?.sources.map((s) => s.runId), differences: r.differences }) + '\n');
      process.stdout.write(r.runDir + '\n');
      return 0;
    }
  }
}

/** The run's event stream on stderr (a bar on a terminal, plain lines otherwise) and, with --json, on stdout as JSON lines. */
async function eventConsumers(c: { json: boolean; verbose: boolean }) {
  const { progressDisplay, jsonLines } = await import('./ui.js');
  return [progressDisplay({ verbose: c.verbose }), ...(c.json ? [jsonLines({ verbose: c.verbose })] : [])];
}

process.env.PATH = pathWithSbin(process.env.PATH);
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => {
    killAll();
    const runDir = (e as { runDir?: string }).runDir;
    if (e instanceof UsageError) {
      process.stderr.write(`bpf-lab: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`bpf-lab: error: ${errorMessage(e)}${runDir ? ` (partial results in ${runDir})` : ''}\n`);
      if (!(e instanceof LabError) && process.env.LAB_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    }
  },
);
