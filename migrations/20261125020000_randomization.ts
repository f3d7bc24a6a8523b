import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Randomization: the secret seed and its commitment, per-stratum cursors (lazy blocks), allocations,
 * uploaded allocation tables, idempotency keys, blinded API keys, trial closure; and participant
 * status now knows `randomized`.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    ALTER TABLE api_keys ADD COLUMN blinded boolean NOT NULL DEFAULT false;
    ALTER TABLE api_keys ADD CONSTRAINT api_keys_admin_not_blinded CHECK (NOT (blinded AND role = 'admin'));
    COMMENT ON COLUMN api_keys.blinded IS 'Blinded keys see arms only as Group 1, Group 2, ... and may not read the allocation list';

    ALTER TABLE trials ADD COLUMN closed_at timestamptz;
    ALTER TABLE trials ADD COLUMN allocation_commitment text CHECK (allocation_commitment ~ '^[0-9a-f]{64}$');
    ALTER TABLE trials ADD CONSTRAINT trials_closed_at CHECK ((status = 'closed') = (closed_at IS NOT NULL));
    ALTER TABLE trials ADD CONSTRAINT trials_commitment_when_active CHECK ((status = 'setup') = (allocation_commitment IS NULL));
    COMMENT ON COLUMN trials.allocation_commitment IS 'SHA-256 of the seed and the canonical randomization configuration (docs/randomization.md), published at activation';

    CREATE TABLE randomization_secrets (
      trial_id uuid PRIMARY KEY REFERENCES trials (trial_id),
      seed bytea NOT NULL CHECK (length(seed) = 32),
      revealed_at timestamptz
    );
    COMMENT ON TABLE randomization_secrets IS 'The 256-bit seed of each trial; never returned by the API until revealed after closure';

    CREATE TABLE randomization_strata (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      stratum_key text NOT NULL,
      allocated integer NOT NULL DEFAULT 0 CHECK (allocated >= 0),
      block_number integer,
      block_size integer,
      block_start_sequence integer,
      PRIMARY KEY (trial_id, stratum_key),
      CHECK ((block_number IS NULL) = (block_size IS NULL) AND (block_size IS NULL) = (block_start_sequence IS NULL))
    );
    COMMENT ON TABLE randomization_strata IS 'Cursor per stratum, locked FOR UPDATE by each randomization; blocks are generated lazily from the seed';
    COMMENT ON COLUMN randomization_strata.stratum_key IS 'Canonical stratum key (docs/randomization.md); the empty string when unstratified and for minimization';
    COMMENT ON COLUMN randomization_strata.allocated IS 'Slots taken so far; the next sequence number is allocated + 1';
    COMMENT ON COLUMN randomization_strata.block_number IS 'Current permuted block (1-based); NULL for other methods and before the first allocation';

    CREATE TABLE allocations (
      trial_id uuid NOT NULL,
      allocation_id uuid NOT NULL,
      participant_id uuid NOT NULL,
      stratum_key text NOT NULL,
      stratum jsonb NOT NULL,
      sequence_number integer NOT NULL CHECK (sequence_number >= 1),
      block_number integer,
      block_size integer,
      position_in_block integer,
      arm_code text NOT NULL,
      randomized_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      randomized_by uuid,
      error_reason text,
      error_flagged_at timestamptz,
      PRIMARY KEY (trial_id, allocation_id),
      UNIQUE (trial_id, participant_id),
      UNIQUE (trial_id, stratum_key, sequence_number),
      FOREIGN KEY (trial_id, participant_id) REFERENCES participants (trial_id, participant_id),
      FOREIGN KEY (trial_id, arm_code) REFERENCES trial_arms (trial_id, code),
      FOREIGN KEY (trial_id, stratum_key) REFERENCES randomization_strata (trial_id, stratum_key),
      CHECK ((error_reason IS NULL) = (error_flagged_at IS NULL))
    );
    COMMENT ON TABLE allocations IS 'One per randomized participant (unique), one per slot (unique per stratum and sequence); never deleted';
    COMMENT ON COLUMN allocations.stratum IS 'Levels of the stratification factors, e.g. {"site":"A"}';
    COMMENT ON COLUMN allocations.randomized_by IS 'API key that randomized';
    COMMENT ON COLUMN allocations.error_reason IS 'Set when the randomization was flagged as done in error; the allocation and its slot stay';

    CREATE TABLE allocation_table_rows (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      row_index integer NOT NULL,
      stratum_key text NOT NULL,
      stratum jsonb NOT NULL,
      stratum_position integer NOT NULL CHECK (stratum_position >= 1),
      arm_code text NOT NULL,
      PRIMARY KEY (trial_id, row_index),
      UNIQUE (trial_id, stratum_key, stratum_position),
      FOREIGN KEY (trial_id, arm_code) REFERENCES trial_arms (trial_id, code)
    );
    COMMENT ON TABLE allocation_table_rows IS 'Allocation table of a list trial, as uploaded; row n of a stratum goes to its n-th participant';
    COMMENT ON COLUMN allocation_table_rows.stratum_position IS '1-based position of the row within its stratum';

    CREATE TABLE idempotency_keys (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      api_key_id uuid NOT NULL,
      idempotency_key text NOT NULL,
      request_fingerprint text NOT NULL,
      response_status integer NOT NULL,
      response_body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, api_key_id, idempotency_key)
    );
    COMMENT ON TABLE idempotency_keys IS 'First responses of requests sent with an Idempotency-Key, replayed for 24 hours';
    COMMENT ON COLUMN idempotency_keys.response_body IS 'The JSON text exactly as first sent (text, not jsonb, so that a replay is byte-identical)';
    COMMENT ON COLUMN idempotency_keys.request_fingerprint IS 'SHA-256 of operation, path and body; another request with the same key is refused';
    CREATE INDEX idempotency_keys_age ON idempotency_keys (trial_id, created_at);

    CREATE OR REPLACE VIEW participant_states AS
      SELECT p.trial_id, p.participant_id,
             CASE
               WHEN NOT p.eligible THEN 'ineligible'
               WHEN f.withdrew_required THEN 'withdrawn'
               WHEN a.participant_id IS NOT NULL THEN 'randomized'
               WHEN f.declined_required THEN 'declined'
               WHEN f.granted_forms > 0 AND f.required_not_granted = 0 THEN 'consented'
               ELSE 'eligible'
             END AS status,
             f.reconsent_required,
             (p.eligible AND NOT f.withdrew_required AND f.required_not_current = 0 AND f.granted_forms > 0) AS consent_complete,
             f.withdrew_required AS consent_withdrawn
        FROM participants p
        LEFT JOIN allocations a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id
        CROSS JOIN LATERAL (
          SELECT coalesce(bool_or(pf.withdrawn AND cur.required), false) AS withdrew_required,
                 coalesce(bool_or(pf.declined AND NOT pf.granted_active AND cur.required), false) AS declined_required,
                 count(pf.form_code) FILTER (WHERE pf.granted_active) AS granted_forms,
                 count(*) FILTER (WHERE cur.required AND NOT coalesce(pf.granted_active, false)) AS required_not_granted,
                 count(*) FILTER (WHERE cur.required AND NOT coalesce(pf.granted_current, false)) AS required_not_current,
                 coalesce(bool_or(pf.granted_active AND NOT pf.granted_current), false) AS reconsent_required
            FROM current_consent_forms cur
            LEFT JOIN participant_form_consents pf
              ON pf.trial_id = p.trial_id AND pf.participant_id = p.participant_id AND pf.form_code = cur.code
           WHERE cur.trial_id = p.trial_id
        ) f;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    DROP VIEW participant_states;
    CREATE VIEW participant_states AS
      SELECT p.trial_id, p.participant_id,
             CASE
               WHEN NOT p.eligible THEN 'ineligible'
               WHEN f.withdrew_required THEN 'withdrawn'
               WHEN f.declined_required THEN 'declined'
               WHEN f.granted_forms > 0 AND f.required_not_granted = 0 THEN 'consented'
               ELSE 'eligible'
             END AS status,
             f.reconsent_required,
             (p.eligible AND NOT f.withdrew_required AND f.required_not_current = 0 AND f.granted_forms > 0) AS consent_complete
        FROM participants p
        CROSS JOIN LATERAL (
          SELECT coalesce(bool_or(pf.withdrawn AND cur.required), false) AS withdrew_required,
                 coalesce(bool_or(pf.declined AND NOT pf.granted_active AND cur.required), false) AS declined_required,
                 count(pf.form_code) FILTER (WHERE pf.granted_active) AS granted_forms,
                 count(*) FILTER (WHERE cur.required AND NOT coalesce(pf.granted_active, false)) AS required_not_granted,
                 count(*) FILTER (WHERE cur.required AND NOT coalesce(pf.granted_current, false)) AS required_not_current,
                 coalesce(bool_or(pf.granted_active AND NOT pf.granted_current), false) AS reconsent_required
            FROM current_consent_forms cur
            LEFT JOIN participant_form_consents pf
              ON pf.trial_id = p.trial_id AND pf.participant_id = p.participant_id AND pf.form_code = cur.code
           WHERE cur.trial_id = p.trial_id
        ) f;
    DROP TABLE idempotency_keys;
    DROP TABLE allocation_table_rows;
    DROP TABLE allocations;
    DROP TABLE randomization_strata;
    DROP TABLE randomization_secrets;
    ALTER TABLE trials DROP CONSTRAINT trials_commitment_when_active;
    ALTER TABLE trials DROP CONSTRAINT trials_closed_at;
    ALTER TABLE trials DROP COLUMN allocation_commitment;
    ALTER TABLE trials DROP COLUMN closed_at;
    ALTER TABLE api_keys DROP CONSTRAINT api_keys_admin_not_blinded;
    ALTER TABLE api_keys DROP COLUMN blinded;
  `);
}
