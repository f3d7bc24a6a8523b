import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Audit chain lanes (#19, docs/security.md "Lanes"). A trial's audit trail was one chain whose head row every audited
 * write locked from its audit INSERT until COMMIT, so a trial's writes committed one after another whatever their
 * own locks allowed (6 % of the commit ceiling at 32 writers, docs/benchmarks.md "Round 3"). Now a trial has up to
 * 32 chains ("lanes"), each an ordinary gap-free hash chain with its own head row, linked inside the inserting
 * transaction exactly as before:
 *
 * - every trial has 32 head rows, lanes 0-31, made with its first audit row (and by this migration for the trials
 *   that have a trail): a head made inside a transaction is invisible to others until it commits, so lanes opened
 *   on demand would make concurrent writers collide on the same new lane;
 * - the trigger links a row to the lowest-numbered lane that no *other* transaction holds (SELECT ... FOR UPDATE
 *   SKIP LOCKED; a lane this transaction already holds is never skipped, so a transaction writing several rows keeps
 *   its lane and never waits for a second one);
 * - when all 32 lanes are held, it waits for one (chosen by transaction id), as every writer waited before.
 *
 * A trial written by one person at a time therefore keeps a single chain (lane 0). Lane 0's rows keep the payload
 * label they had (the trial id), so nothing already chained changes; lane k > 0 labels its rows "<trial id>#<k>",
 * so a row cannot be moved to another lane without breaking its hash. Every row's id is in its hash, so the trail's
 * order (by id) is tamper-evident across lanes as well. The system trail (API keys) keeps its single chain.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    CREATE FUNCTION audit_chain_label(trial_id uuid, lane smallint) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN lane = 0 THEN trial_id::text ELSE trial_id::text || '#' || lane END
    $$;
    COMMENT ON FUNCTION audit_chain_label IS 'The chain label a trial audit row''s payload starts with: the trial id for lane 0, "<trial id>#<lane>" otherwise';

    ALTER TABLE audit_chain_heads ADD COLUMN lane smallint NOT NULL DEFAULT 0 CHECK (lane BETWEEN 0 AND 31);
    ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_pkey;
    ALTER TABLE audit_chain_heads ADD PRIMARY KEY (trial_id, lane);
    ALTER TABLE audit_chain_heads ALTER COLUMN lane DROP DEFAULT;
    INSERT INTO audit_chain_heads (trial_id, lane, last_seq, last_hash, previous_hash)
      SELECT h.trial_id, l.lane, 0, NULL, NULL FROM audit_chain_heads h CROSS JOIN generate_series(1, 31) AS l (lane);
    COMMENT ON TABLE audit_chain_heads IS 'Head (last sequence and hash; 0 and NULL before the first row) of each of the 32 lanes of each trial''s audit chain; a writer locks one lane until it commits, so a lane never forks';

    ALTER TABLE audit_events ADD COLUMN chain_lane smallint NOT NULL DEFAULT 0;
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_chain_seq;
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_chain_seq UNIQUE (trial_id, chain_lane, chain_seq);
    COMMENT ON COLUMN audit_events.chain_lane IS 'The lane (0-31) of the trial''s audit chain the row is linked in; chain_seq counts 1, 2, 3, ... per lane';
    COMMENT ON COLUMN audit_events.chain_seq IS 'Position in its lane of the trial''s audit chain: 1, 2, 3, ... without gaps';

    CREATE OR REPLACE FUNCTION link_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      chosen smallint;
    BEGIN
      LOOP
        SELECT h.lane INTO chosen FROM audit_chain_heads h WHERE h.trial_id = NEW.trial_id
          ORDER BY h.lane LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
          -- Every lane is held by another transaction (then wait for one, chosen by transaction id), or the trial
          -- has no lanes yet (then make them, and look again; a concurrent first writer waits here for the
          -- transaction that made them, and then finds them).
          SELECT h.lane INTO chosen FROM audit_chain_heads h WHERE h.trial_id = NEW.trial_id
            ORDER BY (h.lane - txid_current() % 32 + 32) % 32 LIMIT 1;
          IF NOT FOUND THEN
            INSERT INTO audit_chain_heads (trial_id, lane, last_seq, last_hash, previous_hash)
              SELECT NEW.trial_id, l.lane, 0, NULL, NULL FROM generate_series(0, 31) AS l (lane)
              ON CONFLICT (trial_id, lane) DO NOTHING;
            CONTINUE;
          END IF;
        END IF;
        UPDATE audit_chain_heads h
           SET last_seq = h.last_seq + 1,
               last_hash = audit_chain_hash(h.last_hash, audit_chain_payload(audit_chain_label(NEW.trial_id, chosen),
                 h.last_seq + 1, NEW.id, NEW.occurred_at, NEW.actor_key_id, NEW.actor_role, NEW.action, NEW.entity_type,
                 NEW.entity_id, NEW.before, NEW.after, NEW.reason, NEW.request_id)),
               previous_hash = h.last_hash
         WHERE h.trial_id = NEW.trial_id AND h.lane = chosen
        RETURNING h.lane, h.last_seq, h.last_hash, h.previous_hash
             INTO NEW.chain_lane, NEW.chain_seq, NEW.row_hash, NEW.previous_hash;
        IF FOUND THEN
          RETURN NEW;
        END IF;
        -- The lane vanished while this transaction waited for it (only a superuser deletes heads): look again.
      END LOOP;
    END
    $$;
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    -- One chain per trial again: the trials that used lanes are relinked in id order, as 20261125050000 linked the
    -- rows written before the chain existed (the lanes' own links are given up, as every down of the chain gives
    -- up what it recorded).
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_chain_seq;
    ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
    DO $$
    DECLARE
      r record;
      prev bytea;
      current_trial uuid;
      seq bigint;
    BEGIN
      FOR r IN SELECT * FROM audit_events
                WHERE trial_id IN (SELECT DISTINCT trial_id FROM audit_events WHERE chain_lane > 0)
                ORDER BY trial_id, id LOOP
        IF current_trial IS DISTINCT FROM r.trial_id THEN
          IF current_trial IS NOT NULL THEN
            DELETE FROM audit_chain_heads WHERE trial_id = current_trial;
            INSERT INTO audit_chain_heads (trial_id, lane, last_seq, last_hash) VALUES (current_trial, 0, seq, prev);
          END IF;
          current_trial := r.trial_id; prev := NULL; seq := 0;
        END IF;
        seq := seq + 1;
        UPDATE audit_events SET chain_lane = 0, chain_seq = seq, previous_hash = prev,
          row_hash = audit_chain_hash(prev, audit_chain_payload(r.trial_id::text, seq, r.id, r.occurred_at, r.actor_key_id,
            r.actor_role, r.action, r.entity_type, r.entity_id, r.before, r.after, r.reason, r.request_id))
          WHERE trial_id = r.trial_id AND id = r.id
          RETURNING row_hash INTO prev;
      END LOOP;
      IF current_trial IS NOT NULL THEN
        DELETE FROM audit_chain_heads WHERE trial_id = current_trial;
        INSERT INTO audit_chain_heads (trial_id, lane, last_seq, last_hash) VALUES (current_trial, 0, seq, prev);
      END IF;
    END
    $$;
    ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
    DELETE FROM audit_chain_heads WHERE lane > 0;
    DELETE FROM audit_chain_heads WHERE last_seq = 0;
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_chain_seq UNIQUE (trial_id, chain_seq);
    ALTER TABLE audit_events DROP COLUMN chain_lane;
    ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_pkey;
    ALTER TABLE audit_chain_heads DROP COLUMN lane;
    ALTER TABLE audit_chain_heads ADD PRIMARY KEY (trial_id);
    DROP FUNCTION audit_chain_label(uuid, smallint);
    CREATE OR REPLACE FUNCTION link_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      LOOP
        UPDATE audit_chain_heads h
           SET last_seq = h.last_seq + 1,
               last_hash = audit_chain_hash(h.last_hash, audit_chain_payload(NEW.trial_id::text, h.last_seq + 1, NEW.id,
                 NEW.occurred_at, NEW.actor_key_id, NEW.actor_role, NEW.action, NEW.entity_type, NEW.entity_id, NEW.before,
                 NEW.after, NEW.reason, NEW.request_id)),
               previous_hash = h.last_hash
         WHERE h.trial_id = NEW.trial_id
        RETURNING h.last_seq, h.last_hash, h.previous_hash INTO NEW.chain_seq, NEW.row_hash, NEW.previous_hash;
        IF FOUND THEN
          RETURN NEW;
        END IF;
        NEW.chain_seq := 1;
        NEW.previous_hash := NULL;
        NEW.row_hash := audit_chain_hash(NULL, audit_chain_payload(NEW.trial_id::text, 1, NEW.id, NEW.occurred_at,
          NEW.actor_key_id, NEW.actor_role, NEW.action, NEW.entity_type, NEW.entity_id, NEW.before, NEW.after, NEW.reason,
          NEW.request_id));
        INSERT INTO audit_chain_heads (trial_id, last_seq, last_hash, previous_hash)
          VALUES (NEW.trial_id, 1, NEW.row_hash, NULL) ON CONFLICT (trial_id) DO NOTHING;
        IF FOUND THEN
          RETURN NEW;
        END IF;
      END LOOP;
    END
    $$;
  `,
  );
}
