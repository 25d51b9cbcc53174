/**
 * `fedrec report` and `fedrec train --report` as a user runs them (real child processes, real
 * files), and the page they write opened in Debian chromium from disk: it renders without a
 * console error or any request beyond the file itself, and its Chart.js charts hold the runs'
 * numbers — read back from the chart instances and compared with the result JSON files.
 * Bad input (missing, truncated, not a result document, bad output path) ends in one line, exit 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { FEDREC_BIN, tempDir } from '../server/testing.js';
import type { ResultDocument } from './result.js';
import { launchChromium, NO_CHROMIUM, watchedPage } from './chromium.js';

const tiny = ['--synthetic-users', '60', '--synthetic-items', '300', '--synthetic-interactions', '2000', '--k', '10', '--split', 'ratio:0.8,0.1,0.1', '--eval', 'sampled,full', '--eval-every', '1'];
let dir: ReturnType<typeof tempDir>;
let browser: Browser | null = null;
let fed: ResultDocument;
let central: ResultDocument;

function fedrec(args: string[]) {
  return spawnSync(process.execPath, [FEDREC_BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
}

function ok(args: string[]): string {
  const r = fedrec(args);
  assert.equal(r.status, 0, `fedrec ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** One clear line on stderr, exit code 2, no stack trace. */
function refused(args: string[], pattern: RegExp): void {
  const r = fedrec(args);
  assert.equal(r.status, 2, `fedrec ${args.join(' ')} → ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

interface ChartDump {
  type: string;
  labels: unknown[];
  datasets: { label: string; data: unknown[] }[];
  width: number;
  painted: boolean;
}

async function openReport(file: string): Promise<{ charts: Record<string, ChartDump>; errors: string[]; requests: string[]; text: string }> {
  const { page, errors, requests } = await watchedPage(browser as Browser);
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  const charts = await page.evaluate(() => {
    const report = (window as unknown as { fedrecReport: { charts: Record<string, { config: { type: string }; data: { labels?: unknown[]; datasets: { label: string; data: unknown[] }[] }; canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D }> } }).fedrecReport;
    const out: Record<string, unknown> = {};
    for (const [id, c] of Object.entries(report.charts)) {
      const { width, height } = c.canvas;
      const pixels = c.ctx.getImageData(0, 0, width, height).data;
      let painted = false;
      for (let k = 3; k < pixels.length; k += 4) if (pixels[k] !== 0) { painted = true; break; }
      out[id] = { type: c.config.type, labels: c.data.labels ?? [], datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })), width, painted };
    }
    return out;
  });
  const text = await page.locator('body').innerText();
  await page.context().close();
  return { charts: charts as Record<string, ChartDump>, errors, requests, text };
}

const points = (doc: ResultDocument, value: (h: ResultDocument['history'][number]) => number | undefined) =>
  doc.history.filter((h) => value(h) !== undefined).map((h) => ({ x: h.round, y: value(h) }));

function dataset(chart: ChartDump, label: string): unknown[] {
  const d = chart.datasets.find((s) => s.label === label);
  assert.ok(d, `dataset '${label}' in ${chart.datasets.map((s) => s.label).join(', ')}`);
  return d.data;
}

before(async () => {
  dir = tempDir('report');
  ok(['train', ...tiny, '--rounds', '4', '--out', join(dir.path, 'fed.json'), '--report', join(dir.path, 'fed.html')]);
  ok(['train', ...tiny, '--mode', 'central', '--epochs', '3', '--out', join(dir.path, 'central.json')]);
  fed = JSON.parse(readFileSync(join(dir.path, 'fed.json'), 'utf8')) as ResultDocument;
  central = JSON.parse(readFileSync(join(dir.path, 'central.json'), 'utf8')) as ResultDocument;
  if (!NO_CHROMIUM) browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  dir?.remove();
});

test('fedrec report: two runs overlaid; the charts hold the runs\' numbers; no console error, no request', { timeout: 120_000, skip: NO_CHROMIUM }, async () => {
  const out = join(dir.path, 'both.html');
  ok(['report', join(dir.path, 'fed.json'), join(dir.path, 'central.json'), '--out', out]);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import/, 'no script, style sheet or image is referenced');
  const { charts, errors, requests, text } = await openReport(out);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [pathToFileURL(out).href], 'the page requests nothing but itself');

  const fedSelected = fed.selectedRound as number;
  const centralSelected = central.selectedRound as number;
  assert.ok(fedSelected >= 1 && fedSelected <= 4 && centralSelected >= 1 && centralSelected <= 3);
  // loss per round / epoch, both runs, each selected round marked
  assert.deepEqual(dataset(charts.loss, 'fed'), points(fed, (h) => h.loss));
  assert.deepEqual(dataset(charts.loss, 'central'), points(central, (h) => h.loss));
  assert.deepEqual(dataset(charts.loss, `fed: selected round ${fedSelected}`), [{ x: fedSelected, y: fed.history[fedSelected - 1].loss }]);
  assert.deepEqual(dataset(charts.loss, `central: selected epoch ${centralSelected}`), [{ x: centralSelected, y: central.history[centralSelected - 1].loss }]);
  // validation curves, both protocols
  // (the per-round probe evaluates the split's main protocol: sampled for leave-one-out)
  const fullProbed = fed.history.some((h) => h.validation.full);
  assert.equal(Boolean(charts['validation:full NDCG@10']), fullProbed);
  const probed: ['sampled' | 'full', string][] = [['sampled', 'NDCG@10'], ['sampled', 'HR@10']];
  if (fullProbed) probed.push(['full', 'NDCG@10'], ['full', 'HR@10']);
  for (const [proto, metric] of probed) {
    const chart = charts[`validation:${proto} ${metric}`];
    assert.ok(chart, `a chart of validation ${proto} ${metric}`);
    assert.deepEqual(dataset(chart, 'fed'), points(fed, (h) => h.validation[proto]?.[metric]));
    assert.deepEqual(dataset(chart, 'central'), points(central, (h) => h.validation[proto]?.[metric]));
    assert.deepEqual(dataset(chart, `fed: selected round ${fedSelected}`), [{ x: fedSelected, y: fed.history[fedSelected - 1].validation[proto]?.[metric] }]);
  }
  // bytes per round: the federated run only
  assert.deepEqual(dataset(charts.bytes, 'fed: up'), points(fed, (h) => h.bytesUp));
  assert.deepEqual(dataset(charts.bytes, 'fed: down'), points(fed, (h) => h.bytesDown));
  assert.ok(fed.history.every((h) => h.bytesUp > 0 && h.bytesDown > 0));
  assert.ok(!charts.bytes.datasets.some((d) => d.label.startsWith('central')));
  assert.match(text, /Centralised \(nothing sent\): central/);
  // test metrics against the baselines (same data and split: one set of baselines)
  for (const proto of ['sampled', 'full'] as const) {
    const chart = charts[`test:${proto}`];
    assert.equal(chart.type, 'bar');
    assert.deepEqual(chart.labels, ['HR@10', 'NDCG@10']);
    assert.deepEqual(dataset(chart, 'fed'), [fed.metrics.test[proto]?.['HR@10'], fed.metrics.test[proto]?.['NDCG@10']]);
    assert.deepEqual(dataset(chart, 'central'), [central.metrics.test[proto]?.['HR@10'], central.metrics.test[proto]?.['NDCG@10']]);
    for (const b of ['popularity', 'random']) {
      assert.deepEqual(dataset(chart, b), [fed.baselines[b].test?.[proto]?.['HR@10'], fed.baselines[b].test?.[proto]?.['NDCG@10']]);
    }
  }
  for (const [id, c] of Object.entries(charts)) assert.ok(c.width > 0 && c.painted, `chart ${id} is drawn`);
  // the tables print the same numbers
  assert.ok(text.includes((fed.metrics.test.sampled?.['HR@10'] as number).toFixed(4)));
  assert.ok(text.includes((fed.baselines.popularity.test?.sampled?.['NDCG@10'] as number).toFixed(4)));
});

test('fedrec train --report writes the page of the run it finished', { timeout: 60_000, skip: NO_CHROMIUM }, async () => {
  const { charts, errors } = await openReport(join(dir.path, 'fed.html'));
  assert.deepEqual(errors, []);
  assert.deepEqual(dataset(charts.loss, 'fed'), points(fed, (h) => h.loss));
  assert.deepEqual(dataset(charts['test:sampled'], 'fed'), [fed.metrics.test.sampled?.['HR@10'], fed.metrics.test.sampled?.['NDCG@10']]);
});

test('bad input to fedrec report: one line naming the file, exit 2, nothing written', () => {
  const good = join(dir.path, 'fed.json');
  const out = join(dir.path, 'bad.html');
  const text = readFileSync(good, 'utf8');
  writeFileSync(join(dir.path, 'cut.json'), text.slice(0, Math.floor(text.length / 2)));
  writeFileSync(join(dir.path, 'other.json'), JSON.stringify({ users: 3, items: [1, 2] }));
  const wrongLoss = JSON.parse(text) as { history: { loss: unknown }[] };
  wrongLoss.history[1].loss = 'low';
  writeFileSync(join(dir.path, 'wrong.json'), JSON.stringify(wrongLoss));
  writeFileSync(join(dir.path, 'empty.json'), '');
  refused(['report', join(dir.path, 'nope.json'), '--out', out], /^fedrec report: nope\.json: cannot read the result document: no such file$/m);
  refused(['report', join(dir.path, 'cut.json'), '--out', out], /^fedrec report: cut\.json: not valid JSON \(.+\); is the file complete\?$/m);
  refused(['report', join(dir.path, 'empty.json'), '--out', out], /empty\.json: not valid JSON \(the file is empty\)/);
  refused(['report', join(dir.path, 'other.json'), '--out', out], /other\.json: not a fedrec result document \(dataset: .*\); expected the JSON of fedrec train/);
  refused(['report', good, join(dir.path, 'wrong.json'), '--out', out], /wrong\.json: not a fedrec result document \(history\[1\]\.loss: .*number/);
  refused(['report', good, '--out', join(dir.path, 'no-such-folder', 'r.html')], /--out .*r\.html: the folder .*no-such-folder does not exist/);
  refused(['report', good, '--out', dir.path], /is a folder; give a file name/);
  refused(['report', good], /--out FILE is required/);
  refused(['report', '--out', out], /give at least one result JSON file/);
  assert.ok(!existsSync(out), 'no report was written');
  assert.ok(!readdirSync(dir.path).some((f) => f.includes('.tmp-')), 'no temporary file left');
});

test('train --report into a missing folder is refused before training', () => {
  const r = fedrec(['train', ...tiny, '--rounds', '2', '--report', join(dir.path, 'missing', 'r.html')]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^fedrec train: --report .*r\.html: the folder .*missing does not exist$/m);
  assert.equal(r.stdout, '', 'nothing trained, no summary');
});
