import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';

/*
 * What the drill reads through the HTTP API, the same way on the source and the restored service.
 */

type AuditChainVerification = components['schemas']['AuditChainVerification'];

export interface ChainState {
  /** "system", or the trial's id. */
  chain: string;
  valid: boolean;
  rowsChecked: number;
  head: AuditChainVerification['head'];
  /** The last row of each lane of the chain. */
  lanes: AuditChainVerification['lanes'];
  firstBrokenLink: AuditChainVerification['firstBrokenLink'];
}

export async function listTrialIds(client: TrialdeskClient): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.get('/v1/trials', {
      params: { query: { limit: 500, ...(cursor === undefined ? {} : { cursor }) } },
    });
    ids.push(...page.items.map((trial) => trial.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

const toChainState = (chain: string, verification: AuditChainVerification): ChainState => ({
  chain,
  valid: verification.valid,
  rowsChecked: verification.rowsChecked,
  head: verification.head,
  lanes: verification.lanes,
  firstBrokenLink: verification.firstBrokenLink,
});

/** The verification of every trial's chain and of the system chain, trials first in the given order. */
export async function verifyChains(client: TrialdeskClient, trialIds: readonly string[]): Promise<ChainState[]> {
  const states: ChainState[] = [];
  for (const trialId of trialIds) {
    states.push(
      toChainState(
        trialId,
        await client.get('/v1/trials/{trialId}/audit/verification', { params: { path: { trialId } } }),
      ),
    );
  }
  states.push(toChainState('system', await client.get('/v1/audit/verification')));
  return states;
}

/** The read models whose JSON must be identical on the source and the restored service. */
export interface TrialReads {
  consort: components['schemas']['ConsortReport'];
  serviceUserBaseline: components['schemas']['BaselineTable'];
  caseWorkerBaseline: components['schemas']['BaselineTable'];
}

export async function readTrial(client: TrialdeskClient, trialId: string): Promise<TrialReads> {
  const path = { trialId };
  return {
    consort: await client.get('/v1/trials/{trialId}/consort', { params: { path } }),
    serviceUserBaseline: await client.get('/v1/trials/{trialId}/baseline', {
      params: { path, query: { role: 'service_user', tests: 'welch' } },
    }),
    caseWorkerBaseline: await client.get('/v1/trials/{trialId}/baseline', {
      params: { path, query: { role: 'case_worker', tests: 'welch' } },
    }),
  };
}

export interface RequestTimings {
  firstMs: number;
  medianMs: number;
  count: number;
}

/** Times `count` sequential requests; the first is reported apart (it may pay for a cold cache or a new connection). */
export async function timeRequests(count: number, request: () => Promise<unknown>): Promise<RequestTimings> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await request();
    times.push(performance.now() - started);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { firstMs: times[0]!, medianMs: sorted[Math.floor(sorted.length / 2)]!, count };
}

/** The JSON pointer of the first place two JSON values differ, or null when they are equal. */
export function firstDifference(a: unknown, b: unknown, pointer = ''): string | null {
  if (a === b) return null;
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return pointer || '/';
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return `${pointer}/length`;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const found = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
    );
    if (found !== null) return found;
  }
  return null;
}
