import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * The audit trigger links a row to its trial's chain in one statement instead of three (docs/benchmarks.md): the
 * head's UPDATE ... RETURNING takes the row lock, advances the head and hands back the new sequence, the new hash and
 * the hash it replaced (kept in the new column previous_hash of the head). Under READ COMMITTED a writer that waited
 * for the head's lock re-evaluates the UPDATE on the head its predecessor committed, exactly as the former
 * SELECT ... FOR UPDATE did, so the chain never forks. The first row of a trial inserts the head; two first rows
 * racing both find no head, one inserts, the other's insert conflicts and it takes the UPDATE path.
 *
 * The payload and hash are those of 20261125050000_audit_hash_chain; nothing already chained changes.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    ALTER TABLE audit_chain_heads ADD COLUMN previous_hash bytea;
    COMMENT ON COLUMN audit_chain_heads.previous_hash IS 'The hash before last_hash (of the row before the last): what the audit trigger links the next row to is last_hash; this is returned to it by the same UPDATE';

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
        -- Another transaction created the head meanwhile (and committed): link after its row.
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
    CREATE OR REPLACE FUNCTION link_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      head_seq bigint;
      head_hash bytea;
    BEGIN
      INSERT INTO audit_chain_heads (trial_id, last_seq, last_hash) VALUES (NEW.trial_id, 0, NULL) ON CONFLICT DO NOTHING;
      SELECT last_seq, last_hash INTO head_seq, head_hash FROM audit_chain_heads WHERE trial_id = NEW.trial_id FOR UPDATE;
      NEW.chain_seq := head_seq + 1;
      NEW.previous_hash := head_hash;
      NEW.row_hash := audit_chain_hash(head_hash, audit_chain_payload(NEW.trial_id::text, NEW.chain_seq, NEW.id, NEW.occurred_at,
        NEW.actor_key_id, NEW.actor_role, NEW.action, NEW.entity_type, NEW.entity_id, NEW.before, NEW.after, NEW.reason, NEW.request_id));
      UPDATE audit_chain_heads SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash WHERE trial_id = NEW.trial_id;
      RETURN NEW;
    END
    $$;
    ALTER TABLE audit_chain_heads DROP COLUMN previous_hash;
  `,
  );
}
