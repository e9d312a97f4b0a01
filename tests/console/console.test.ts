// The web console in a real browser: Debian's chromium driven by playwright-core (no browser download), against a
// real gateway on embedded defaults whose local dispatcher runs the real trainer. A newcomer's path, all through
// the page: sign in, upload a dataset (it turns READY), start a training run and watch its curve, read the model's
// evaluation report, embed the dataset and look at the map, embed a pasted sequence in the playground. Each check
// compares what the page draws with what the API reports. A READER key's mutations are refused by the server.
// Screenshots of every page go to tests/console/artifacts/ (git-ignored).
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../src/gateway/console-static';
import { tinySequenceJsonl } from '../helpers/datasets';
import type { SeededTenant } from '../helpers/platform';
import { startJobPlatform, type JobPlatform } from '../jobs/helpers';
// Browser globals inside page.evaluate callbacks (they run in chromium, not in Node; the project has no DOM lib).
declare const sessionStorage: { getItem(k: string): string | null; length: number };
declare const localStorage: { length: number };
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const ARTIFACTS = path.join(__dirname, 'artifacts');
const ROWS = 120;

jest.setTimeout(480_000);

function newest(p: string): number {
  const st = fs.statSync(p);
  return st.isDirectory() ? Math.max(st.mtimeMs, ...fs.readdirSync(p).map((n) => newest(path.join(p, n)))) : st.mtimeMs;
}

/** Builds console/dist when it is missing or older than the console's sources (CI builds it before the tests). */
function ensureConsoleBuilt(): void {
  const index = path.join(ROOT, 'console', 'dist', 'index.html');
  if (fs.existsSync(index) && newest(path.join(ROOT, 'console', 'src')) <= fs.statSync(index).mtimeMs) return;
  // Jest sets NODE_ENV=test, which would make Vite bundle React's development build.
  execSync('npm run build:console', { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
}

async function launch(): Promise<{ context: BrowserContext; profile: string }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1360, height: 860 },
  });
  // Generous: the CI machine has two cores shared with the trainer child process.
  context.setDefaultTimeout(90_000);
  return { context, profile };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByTestId('signin-key').fill(key);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('viewer-role').waitFor();
}

describe('web console in a real browser', () => {
  let t: JobPlatform;
  let tenant: SeededTenant;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  const cspErrors: string[] = [];
  const state: { datasetId?: string; versionId?: string; runId?: string; modelId?: string; modelVersionId?: string; spaceId?: string } = {};

  const api = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await t.exec(query, variables, { key: tenant.keys.READER });
    if (!r.body.data) throw new Error(JSON.stringify(r.body.errors));
    return r.body.data;
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    t = await startJobPlatform();
    tenant = await t.seedTenant('console');
    ({ context, profile } = await launch());
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await t?.close();
  });

  test('the console is served at /console under a strict Content-Security-Policy', async () => {
    const res = await fetch(`${t.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    const csp = CONSOLE_CSP.split('; ');
    expect(csp).toEqual(expect.arrayContaining(["script-src 'self'", "connect-src 'self'", "default-src 'none'"]));
    const html = await res.text();
    // No inline script: every <script> has a src.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    expect((await fetch(`${t.url}/console`, { redirect: 'manual' })).status).toBe(301);
  });

  test('a wrong key is refused and shown as an error', async () => {
    await page.goto(`${t.url}/console/`);
    await page.getByTestId('signin-key').fill('pt_wrong0000_notarealsecretatallnotarealsecret');
    await page.getByTestId('signin-submit').click();
    const err = page.getByTestId('signin-error');
    await err.waitFor();
    expect(await err.getAttribute('data-code')).toBe('UNAUTHENTICATED');
    expect(await page.evaluate(() => sessionStorage.getItem('pretext.apiKey'))).toBeNull();
    await shot(page, '01-signin-refused');
  });

  test('signing in keeps the key in session storage only, never in the URL', async () => {
    await signIn(page, t.url, tenant.keys.MEMBER);
    expect(await page.getByTestId('viewer-role').textContent()).toBe('MEMBER');
    expect(await page.evaluate(() => sessionStorage.getItem('pretext.apiKey'))).toBe(tenant.keys.MEMBER);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(tenant.keys.MEMBER);
    await shot(page, '02-overview');
  });

  test('a dataset uploaded through the page turns READY', async () => {
    await page.goto(`${t.url}/console/#/datasets`);
    await page.getByTestId('dataset-name').fill('waves');
    await page.getByTestId('dataset-modality').selectOption('SEQUENCE');
    await page.getByTestId('dataset-create').click();
    await page.getByTestId('upload').waitFor();
    state.datasetId = decodeURIComponent(page.url().split('#/datasets/')[1]!.split('/')[0]!);
    await page.getByLabel('length').fill('16');
    await page.getByLabel('features').fill('2');
    await page.getByTestId('upload-file').setInputFiles({ name: 'waves.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(tinySequenceJsonl(ROWS, 16)) });
    await page.getByTestId('upload-start').click();
    await page.locator('[data-testid="version-status-1"][data-status="READY"]').waitFor({ timeout: 60_000 });
    const progress = page.getByTestId('upload-progress');
    expect(await progress.getAttribute('data-sent')).toBe(await progress.getAttribute('data-total'));
    expect(await page.getByTestId('version-rows').textContent()).toBe(String(ROWS));
    const d = await api(`query($id: ID!) { dataset(id: $id) { versions { id status stats { rows } } } }`, { id: state.datasetId });
    expect(d.dataset.versions).toEqual([expect.objectContaining({ status: 'READY', stats: { rows: ROWS } })]);
    state.versionId = d.dataset.versions[0].id;
    await page.getByTestId('preview-item').first().waitFor();
    await shot(page, '03-dataset');
  });

  test("a run started from the page trains, and its loss curve has as many points as the run reported", async () => {
    const form = page.getByTestId('train');
    await form.getByRole('combobox').first().selectOption('MASKED');
    await form.getByLabel('dim').fill('16');
    await form.getByLabel('steps').fill('8');
    await form.getByLabel('batch').fill('8');
    await page.getByTestId('train-start').click();
    await Promise.race([
      page.getByTestId('run-status').waitFor(),
      page.getByTestId('train').getByTestId('action-error').waitFor().then(async () => {
        throw new Error(`createExperiment refused: ${await page.getByTestId('train').getByTestId('action-error').textContent()}`);
      }),
    ]);
    state.runId = decodeURIComponent(page.url().split('#/runs/')[1]!);
    await page.locator('[data-testid="run-status"][data-status="SUCCEEDED"]').waitFor({ timeout: 420_000 });
    const run = (await api(`query($id: ID!) { run(id: $id) { status metrics { name step attempt } model { modelId modelVersionId } } }`, { id: state.runId })).run;
    expect(run.status).toBe('SUCCEEDED');
    // The page asks for the same window as this query (the newest 1000 points of every series).
    const reported = new Set((run.metrics as Array<{ name: string; step: number }>).filter((m) => m.name === 'loss').map((m) => m.step)).size;
    expect(reported).toBeGreaterThan(0);
    const curve = page.getByTestId('curve-loss');
    await page.waitForFunction((n) => document.querySelector('[data-testid="curve-loss"]')?.getAttribute('data-points') === String(n), reported);
    expect(Number(await curve.getAttribute('data-points'))).toBe(reported);
    expect(await curve.locator('canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('run-progress').getAttribute('data-value')).toBe('1');
    state.modelId = run.model.modelId;
    state.modelVersionId = run.model.modelVersionId;
    await shot(page, '04-run');
  });

  test("the model's confusion-matrix cells sum to the report's test count", async () => {
    await page.goto(`${t.url}/console/#/models/${state.modelId}/${state.modelVersionId}`);
    await page.getByTestId('confusion-matrix').waitFor();
    const e = (await api(`query($id: ID!) { modelVersion(id: $id) { evaluation } }`, { id: state.modelVersionId })).modelVersion.evaluation;
    const cells = await page.getByTestId('cm-cell').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-value'))));
    expect(cells.length).toBe(e.labels.length ** 2);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(e.testSize);
    expect(await page.getByTestId('test-size').textContent()).toBe(String(e.testSize));
    await shot(page, '05-model');
  });

  test('the map draws as many points as the embedding space holds', async () => {
    await page.getByTestId('space-create').click();
    const canvas = page.getByTestId('map-canvas');
    await canvas.waitFor({ timeout: 60_000 });
    state.spaceId = decodeURIComponent(page.url().split('#/map/')[1]!);
    const space = (await api(`query($id: ID!) { embeddingSpace(id: $id) { status rows } }`, { id: state.spaceId })).embeddingSpace;
    expect(space).toEqual({ status: 'READY', rows: ROWS });
    await page.waitForFunction((n) => document.querySelector('[data-testid="map-canvas"]')?.getAttribute('data-drawn') === String(n), ROWS);
    expect(Number(await canvas.getAttribute('data-drawn'))).toBe(space.rows);
    // Hover shows the row; a click runs `similar` with it and highlights its neighbours on the map.
    const [x, y] = (await canvas.getAttribute('data-point0'))!.split(',').map(Number);
    await canvas.hover({ position: { x: x!, y: y! } });
    await page.getByTestId('map-tooltip').getByTestId('preview-item').waitFor();
    await canvas.click({ position: { x: x!, y: y! } });
    await page.getByTestId('neighbors').getByTestId('neighbor').nth(9).waitFor();
    expect(await page.getByTestId('neighbors').getByTestId('neighbor').count()).toBe(10);
    await page.waitForFunction(() => document.querySelector('[data-testid="map-canvas"]')?.getAttribute('data-highlighted') === '10');
    await shot(page, '06-map');
  });

  test('the playground embeds a pasted sequence and lists its nearest rows', async () => {
    await page.goto(`${t.url}/console/#/playground/${state.modelVersionId}`);
    const steps = Array.from({ length: 16 }, (_, i) => `${Math.sin((2 * Math.PI * i) / 16).toFixed(3)}, 0.5`).join('\n');
    await page.getByTestId('playground-sequence').fill(steps);
    await page.getByText('neighbours from a space').waitFor();
    await page.getByTestId('playground-run').click();
    await page.getByTestId('embedding').waitFor();
    await page.getByTestId('playground-neighbors').getByTestId('neighbor').first().waitFor();
    expect(await page.getByTestId('playground-neighbors').getByTestId('neighbor').count()).toBe(8);
    await shot(page, '07-playground');
    expect(cspErrors).toEqual([]);
  });

  test("a READER key's mutation buttons are refused by the server", async () => {
    const reader = await context.newPage();
    await signIn(reader, t.url, tenant.keys.READER);
    await reader.goto(`${t.url}/console/#/models/${state.modelId}/${state.modelVersionId}`);
    await reader.getByTestId('promote').click();
    const err = reader.getByTestId('aliases').getByTestId('action-error');
    await err.waitFor();
    expect(await err.getAttribute('data-code')).toBe('FORBIDDEN');
    await reader.goto(`${t.url}/console/#/datasets`);
    await reader.getByTestId('dataset-name').fill('not-allowed');
    await reader.getByTestId('dataset-create').click();
    await reader.getByTestId('action-error').waitFor();
    expect(await reader.getByTestId('action-error').getAttribute('data-code')).toBe('FORBIDDEN');
    const names = (await api(`{ datasets { nodes { name } } }`)).datasets.nodes.map((d: { name: string }) => d.name);
    expect(names).not.toContain('not-allowed');
    await shot(reader, '08-reader-refused');
    await reader.close();
  });
});
