import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeRows, type ResultRow, type RunOutcome, type SummaryRow } from './csv.js';
import { loadRun } from './load-run.js';
import type { Manifest } from './manifest.js';
import { renderHtml, renderMarkdown } from './report.js';
import { fidelityRows } from './fidelity.js';
import { fidelityChart, kernelChangeChart, renderSvg, scenarioCharts, type ChartSpec } from './charts.js';
import { crossKernelTable, kernelOrder, kernelSteps, renderOverview } from './overview.js';
import { benchmarkExport } from './export.js';
import { coverageSection } from './coverage.js';
import { scenarios as allScenarios } from '../../scenarios/index.js';
import { errorMessage } from '../errors.js';
import type { ScenarioDefinition } from '../../scenarios/define.js';
import kernelBench, { fidelityMatches } from '../../scenarios/kernel-bench.js';

export interface ReportInput {
  manifest: Manifest; samples: ResultRow[]; summary: SummaryRow[]; outcomes: RunOutcome[]; scenarios: ScenarioDefinition[];
}

/**
 * Write a run directory's report: charts/*.svg, report.md (summary first, charts linked), report.html (charts
 * inlined) and benchmark.json (github-action-benchmark's custom format). A chart that fails to render is named in the
 * report and the rest is written: a chart never costs a run its results.
 */
export async function writeReport(runDir: string, i: ReportInput): Promise<void> {
  const kernels = i.manifest.options.kernels;
  const fidelityTable = fidelityRows(i.summary, fidelityMatches, kernelBench.references, i.samples);
  const fidelity = fidelityChart(fidelityTable);
  const changes = kernelChangeChart(kernelSteps(kernelOrder(kernels, i.summary), { summary: i.summary, samples: i.samples }));
  const specs: ChartSpec[] = [...(changes ? [changes] : []), ...(fidelity ? [fidelity] : []), ...i.scenarios.flatMap((s) => scenarioCharts(s, i.summary, kernels))];
  const svgs = new Map<string, string>();
  const chartErrors: string[] = [];
  if (specs.length) await mkdir(join(runDir, 'charts'), { recursive: true });
  for (const c of specs) {
    try {
      const svg = await renderSvg(c.spec);
      await writeFile(join(runDir, c.file), svg);
      svgs.set(c.file, svg);
    } catch (e) {
      chartErrors.push(`chart ${c.file} not rendered: ${errorMessage(e)}`);
    }
  }
  const charts = new Map<string, { file: string; title: string }[]>();
  for (const c of specs) if (c.scenario && svgs.has(c.file)) charts.set(c.scenario, [...(charts.get(c.scenario) ?? []), c]);

  // the fidelity chart goes with the other charts, after the summary table: the first screen is for the answers
  const leading = [
    ...renderOverview({ kernels, summary: i.summary, samples: i.samples, outcomes: i.outcomes, scenarios: i.scenarios, charts,
      leadingCharts: fidelity && svgs.has(fidelity.file) ? [fidelity] : [], changeChart: changes && svgs.has(changes.file) ? changes : undefined }),
    ...(chartErrors.length ? chartErrors.map((e) => `- ${e}`).concat('') : []),
    ...coverageSection(allScenarios, i.manifest.options.scenarios, kernels, i.summary, i.outcomes),
  ];
  const md = renderMarkdown(i.manifest, i.summary, i.outcomes, i.scenarios, {
    afterFidelity: leading, fidelity: fidelityTable, perScenario: (id) => crossKernelTable(id, { kernels, summary: i.summary, samples: i.samples }),
  });
  await writeFile(join(runDir, 'report.md'), md);
  await writeFile(join(runDir, 'report.html'), inlineCharts(renderHtml(md, `bpf-lab ${i.manifest.runId}`), svgs));
  await writeFile(join(runDir, 'benchmark.json'), JSON.stringify(benchmarkExport(i.summary), null, 2) + '\n');
}

/** report.md links charts/*.svg as images; report.html carries the SVG itself so it is one self-contained file. */
export function inlineCharts(html: string, svgs: Map<string, string>): string {
  return html.replace(/<p><img src="([^"]+)" alt="([^"]*)"><\/p>/g, (whole, src: string, alt: string) => {
    const svg = svgs.get(src);
    return svg ? `<figure class="chart" role="img" aria-label="${alt}" style="margin:1em 0;overflow-x:auto">${svg}</figure>` : whole;
  });
}

export async function loadRunForReport(runDir: string, scenarioById: (id: string) => ScenarioDefinition | undefined): Promise<ReportInput> {
  const run = await loadRun(runDir);
  const samples = run.rows.filter((r) => Number.isFinite(r.value));
  const scenarios = run.manifest.options.scenarios.map((id) => scenarioById(id)).filter((s): s is ScenarioDefinition => !!s);
  const summary = summarizeRows(samples, run.outcomes, scenarioById);
  return { manifest: run.manifest, samples, summary, outcomes: run.outcomes, scenarios };
}
