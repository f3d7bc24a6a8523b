import { loadSpec, OperationSpec } from '../../src/http/openapi';
import { startTestApp, TestApp, TestResponse } from '../support/test-app';
import {
  describeCell,
  describeOperation,
  enumerateCells,
  ExpectedOutcome,
  expectedOutcome,
  MatrixCell,
  OperationTraits,
} from './support/authz-expectation';
import { MatrixRequest, Recipe, RECIPES, RecipeContext } from './support/authz-recipes';
import {
  buildWorld,
  createMatrixTrial,
  keyInput,
  KeyRing,
  KeyScope,
  keyScopeFor,
  MATRIX_ARMS,
  MatrixWorld,
  SITE_IN,
  SITE_OUT,
} from './support/authz-world';
import { recordFigures } from './support/figures';

/*
 * The authorization matrix: every operation of the contract × role × trial scope (unscoped key, key
 * of the trial asked for, key of another trial) × site (the resource at the key's site or another) ×
 * blinded or not. The expected status comes from the contract (authz-expectation.ts), never from a
 * list here; every cell runs, and every answer to a blinded key is searched for the real arms.
 */

const spec = loadSpec();
const operations: { op: OperationSpec; traits: OperationTraits }[] = spec.operations.map((op) => ({
  op,
  traits: describeOperation(spec, op),
}));
const cells = enumerateCells();

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Any arm code or name, in any case: codes and names chosen to appear nowhere else. */
const REAL_ARM = new RegExp(
  MATRIX_ARMS.flatMap((arm) => [arm.code, arm.name])
    .map(escapeRegExp)
    .join('|'),
  'i',
);

/** The label blinded keys see instead of an arm. */
const MASKED_ARM = /Group \d+/;

const figures = {
  cells: 0,
  operations: operations.length,
  expected2xx: 0,
  expected403: 0,
  expected404: 0,
  expected422: 0,
  blindedResponsesScanned: 0,
  leaks: 0,
};

/** Per operation: did unblinded keys see real arms in 2xx answers, and blinded keys masked ones? */
const armsShown = new Map<string, { real: boolean; blinded2xx: number; masked: boolean }>();

function noteArms(operationId: string, res: TestResponse, blinded: boolean): void {
  const seen = armsShown.get(operationId) ?? { real: false, blinded2xx: 0, masked: false };
  if (blinded) {
    seen.blinded2xx += 1;
    seen.masked ||= MASKED_ARM.test(res.text);
  } else {
    seen.real ||= REAL_ARM.test(res.text);
  }
  armsShown.set(operationId, seen);
}

let t: TestApp;
let world: MatrixWorld;
let keys: KeyRing;

beforeAll(async () => {
  t = await startTestApp();
  world = await buildWorld(t);
  keys = new KeyRing(t);
});

afterAll(async () => {
  recordFigures('authorization-matrix', figures);
  await t?.close();
});

function tally(expected: ExpectedOutcome): void {
  figures.cells += 1;
  if (expected.status >= 200 && expected.status < 300) figures.expected2xx += 1;
  else if (expected.status === 403) figures.expected403 += 1;
  else if (expected.status === 404) figures.expected404 += 1;
  else if (expected.status === 422) figures.expected422 += 1;
}

const mediaTypeOf = (res: TestResponse) => (res.headers['content-type'] ?? '').split(';')[0]!.trim();

/** The status, and for refusals problem+json, for successes the representation asked for. */
function checkAnswer(
  where: string,
  res: TestResponse,
  expected: ExpectedOutcome,
  mediaType: string | undefined,
): string[] {
  if (res.status !== expected.status)
    return [
      `${where}: expected ${expected.status} (${expected.because}), got ${res.status}: ${res.text.slice(0, 300)}`,
    ];
  if (expected.kind === 'refusal' && mediaTypeOf(res) !== 'application/problem+json')
    return [`${where}: refusal ${res.status} served as ${mediaTypeOf(res)}, not application/problem+json`];
  if (expected.kind === 'success' && mediaType && mediaTypeOf(res) !== mediaType)
    return [`${where}: asked for ${mediaType}, got ${mediaTypeOf(res)}`];
  return [];
}

/** Searches the whole answer to a blinded key (body and headers) for a real arm code or name. */
function scanForArms(where: string, res: TestResponse): string[] {
  figures.blindedResponsesScanned += 1;
  const headers = Object.entries(res.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
  const match = REAL_ARM.exec(`${headers}\n${res.text}`);
  if (!match) return [];
  figures.leaks += 1;
  const text = res.text;
  const at = text.search(REAL_ARM);
  return [
    `${where}: LEAK to a blinded key, "${match[0]}" in the ${res.status} answer: …${at >= 0 ? text.slice(Math.max(0, at - 120), at + 80) : headers}…`,
  ];
}

/** The trial the request addresses and the trial a limited key is limited to. */
async function trialsFor(recipe: Recipe, cell: MatrixCell): Promise<{ trialId: string; homeTrialId: string }> {
  if (recipe.target === 'none') return { trialId: world.t1.id, homeTrialId: world.t1.id };
  if (recipe.target === 'shared')
    return { trialId: cell.trialScope === 'out' ? world.t2.id : world.t1.id, homeTrialId: world.t1.id };
  const fresh = await createMatrixTrial(t, recipe.target);
  return { trialId: fresh.id, homeTrialId: cell.trialScope === 'out' ? world.t1.id : fresh.id };
}

function representations(
  traits: OperationTraits,
  recipe: Recipe,
  base: MatrixRequest,
): { mediaType: string | undefined; request: MatrixRequest }[] {
  // Reads are asked for in every representation the contract declares; a change is made once.
  const mediaTypes = traits.method === 'get' ? traits.successMediaTypes : traits.successMediaTypes.slice(0, 1);
  if (!mediaTypes.length) return [{ mediaType: undefined, request: base }];
  return mediaTypes.map((mediaType) => ({
    mediaType,
    request: recipe.represent
      ? recipe.represent(base, mediaType)
      : { ...base, headers: { ...base.headers, Accept: mediaType } },
  }));
}

async function runCell(
  op: OperationSpec,
  traits: OperationTraits,
  recipe: Recipe,
  cell: MatrixCell,
): Promise<string[]> {
  const expected = expectedOutcome(traits, cell);
  tally(expected);
  const where = `${op.operationId} [${describeCell(cell)}]`;

  if (cell.role === 'admin' && cell.blinded) {
    const res = await t.call('post', '/v1/api-keys', { body: keyInput('admin', keyScopeFor(cell, world.t1.id), true) });
    return checkAnswer(`${where} POST /v1/api-keys`, res, expected, undefined);
  }

  const { trialId, homeTrialId } = await trialsFor(recipe, cell);
  const scope: KeyScope = keyScopeFor(cell, homeTrialId);
  const key = await keys.key(cell.role, scope, cell.blinded);
  const context: RecipeContext = { t, world, trialId, site: cell.site === 'in' ? SITE_IN : SITE_OUT };
  const base = await recipe.prepare(context);

  const problems: string[] = [];
  for (const { mediaType, request } of representations(traits, recipe, base)) {
    const at = `${where} ${request.method.toUpperCase()} ${request.path}${mediaType ? ` (${mediaType})` : ''}`;
    let res: TestResponse;
    try {
      res = await t.call(request.method, request.path, {
        key,
        body: request.body,
        raw: request.raw,
        headers: request.headers,
      });
    } catch (error) {
      problems.push(`${at}: ${(error as Error).message}`);
      continue;
    }
    problems.push(...checkAnswer(at, res, expected, mediaType));
    if (cell.blinded) problems.push(...scanForArms(at, res));
    if (res.status === expected.status && expected.kind === 'success') noteArms(op.operationId, res, cell.blinded);
    if (
      expected.kind === 'success' &&
      res.status === expected.status &&
      recipe.checkScope &&
      (scope.trialIds || scope.siteCodes)
    ) {
      problems.push(
        ...(await recipe.checkScope(res, { ...context, request, mediaType, scope })).map(
          (problem) => `${at}: ${problem}`,
        ),
      );
    }
  }
  return problems;
}

describe('authorization matrix', () => {
  it('has a recipe for every operation of the contract, and none for operations it no longer has', () => {
    const missing = spec.operations
      .filter((op) => !RECIPES[op.operationId])
      .map((op) => `${op.operationId} (${op.method.toUpperCase()} ${op.path})`);
    const stale = Object.keys(RECIPES).filter((operationId) => !spec.byId.has(operationId));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('runs against trials whose arms unblinded keys do see, so the search for them means something', async () => {
    const audit = await t.call('get', `/v1/trials/${world.t1.id}/audit?limit=500`);
    const exported = await t.call('get', `/v1/trials/${world.t1.id}/export/participants.csv`);
    for (const arm of MATRIX_ARMS) {
      expect(audit.text).toContain(`"${arm.code}"`);
      expect(audit.text).toContain(arm.name);
      expect(exported.text).toContain(arm.code);
    }
  });

  describe.each(
    operations.map(
      ({ op, traits }) => [`${op.operationId}: ${op.method.toUpperCase()} ${op.path}`, op, traits] as const,
    ),
  )('%s', (_name, op, traits) => {
    it(`answers each of the ${cells.length} cells as x-roles and the key's scopes say`, async () => {
      const recipe = RECIPES[op.operationId];
      if (!recipe)
        throw new Error(
          `no recipe for ${op.operationId} (${op.method.toUpperCase()} ${op.path}): add one to test/reliability/support/authz-recipes.ts`,
        );
      const problems: string[] = [];
      for (const cell of cells) {
        try {
          problems.push(...(await runCell(op, traits, recipe, cell)));
        } catch (error) {
          problems.push(
            `${op.operationId} [${describeCell(cell)}]: could not run the cell: ${(error as Error).stack ?? error}`,
          );
        }
      }
      expect(problems).toEqual([]);
    });
  });

  it('showed blinded keys masked arms wherever unblinded keys saw real ones, so the answers searched held arms', () => {
    const showingArms = [...armsShown].filter(([, seen]) => seen.real && seen.blinded2xx > 0);
    expect(showingArms.length).toBeGreaterThan(0);
    expect(showingArms.filter(([, seen]) => !seen.masked).map(([operationId]) => operationId)).toEqual([]);
  });
});
