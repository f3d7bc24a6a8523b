import { Client } from 'pg';

/*
 * What the drill reads from the databases directly, outside the service: row counts and digests of
 * every table, the triggers, planner statistics, and whether the append-only triggers refuse changes.
 */

export interface TableFingerprint {
  /** Schema-qualified, as `format('%I.%I')` quotes it. */
  table: string;
  rows: number;
  /**
   * md5 over the md5s of the rows' text, in sorted order: the same for the same set of rows, whatever their physical
   * order.
   */
  md5: string;
}

export interface TriggerState {
  table: string;
  trigger: string;
  /** pg_trigger.tgenabled: O (fires), D (disabled), R (replica only), A (always). */
  enabled: string;
  function: string;
}

export async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: 'trialdesk-backup-drill' });
  await client.connect();
  // Row text depends on these settings; fixing them makes the digests comparable between sessions.
  await client.query(
    `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'`,
  );
  return client;
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

export async function listUserTables(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMAS}
      ORDER BY n.nspname, c.relname`,
  );
  return rows.map((row) => row.name);
}

/** One query per table: its row count and the digest of its rows. */
export async function fingerprintTables(client: Client): Promise<TableFingerprint[]> {
  const fingerprints: TableFingerprint[] = [];
  for (const table of await listUserTables(client)) {
    const { rows } = await client.query<{ rows: number; md5: string }>(
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(row_md5, '' ORDER BY row_md5 COLLATE "C"), '')) AS md5
         FROM (SELECT md5(ROW(drill_row.*)::text) AS row_md5 FROM ${table} drill_row) hashed`,
    );
    fingerprints.push({ table, rows: rows[0]!.rows, md5: rows[0]!.md5 });
  }
  return fingerprints;
}

export async function listTriggers(client: Client): Promise<TriggerState[]> {
  const { rows } = await client.query<TriggerState>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS trigger, t.tgenabled AS enabled, p.proname AS function
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE NOT t.tgisinternal AND ${USER_SCHEMAS}
      ORDER BY 1, 2`,
  );
  return rows;
}

/** How many user tables the planner has statistics for (none right after a restore, until ANALYZE or autovacuum). */
export async function tablesWithStatistics(client: Client): Promise<number> {
  const { rows } = await client.query<{ tables: number }>(
    `SELECT count(DISTINCT (schemaname, tablename))::int AS tables FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  );
  return rows[0]!.tables;
}

export interface TamperAttempt {
  statement: string;
  /** Refused by an append-only trigger (its message says so), not merely failed. */
  refused: boolean;
  /** The error message, or what happened when nothing refused it. */
  outcome: string;
}

/**
 * Tries a change the append-only triggers must refuse, inside a transaction that is always rolled
 * back, so a missing trigger is reported without leaving the change behind.
 */
export async function attemptTamper(client: Client, statement: string): Promise<TamperAttempt> {
  await client.query('BEGIN');
  try {
    const result = await client.query(statement);
    return {
      statement,
      refused: false,
      outcome: `not refused: ${result.command} affected ${result.rowCount ?? 0} row(s)`,
    };
  } catch (error) {
    const message = (error as Error).message;
    return { statement, refused: /append-only/.test(message), outcome: message };
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Changes the append-only triggers must refuse on each protected table (one row each, or the whole table). */
export const TAMPER_STATEMENTS: readonly string[] = [
  `UPDATE audit_events SET reason = 'backup drill: must be refused' WHERE id = (SELECT min(id) FROM audit_events)`,
  `DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)`,
  `TRUNCATE audit_events`,
  `UPDATE system_audit_events SET reason = 'backup drill: must be refused' WHERE id = (SELECT min(id) FROM system_audit_events)`,
  `DELETE FROM incentive_ledger WHERE ctid = (SELECT ctid FROM incentive_ledger LIMIT 1)`,
];

/**
 * The chain link of one audit row, by lane and position (the system trail has lane 0 only): its previous hash, hex
 * (null for the first row of a lane, undefined when there is no such row).
 */
export async function previousHashAt(
  client: Client,
  trialId: string | null,
  lane: number,
  sequence: number,
): Promise<string | null | undefined> {
  const { rows } =
    trialId === null
      ? await client.query<{ previous: string | null }>(
          `SELECT encode(previous_hash, 'hex') AS previous FROM system_audit_events WHERE chain_seq = $1 AND $2::int = 0`,
          [sequence, lane],
        )
      : await client.query<{ previous: string | null }>(
          `SELECT encode(previous_hash, 'hex') AS previous FROM audit_events
            WHERE trial_id = $1 AND chain_lane = $2 AND chain_seq = $3`,
          [trialId, lane, sequence],
        );
  return rows.length === 0 ? undefined : rows[0]!.previous;
}
