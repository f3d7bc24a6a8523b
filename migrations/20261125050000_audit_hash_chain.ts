import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Tamper-evident audit trail (21 CFR 11.10(e), ICH E6(R3) 4.2.5): every audit row carries its position
 * in its chain (`chain_seq`, 1, 2, ... per trial; one chain for system_audit_events), the hash of the
 * previous row of the chain and its own hash:
 *
 *   row_hash = SHA-256( previous_hash (empty for the first row) || UTF-8 of audit_chain_payload(...) )
 *
 * The payload is a JSON array (PostgreSQL's canonical jsonb text: keys sorted, fixed spacing) of the
 * chain, the sequence, the row id, occurred_at in UTC with microseconds and every recorded column, so
 * changing any of them, deleting a row or reordering rows breaks the chain at that point.
 *
 * The trigger computes the links inside the inserting transaction. The head of each chain (last
 * sequence and hash) lives in one row per chain that the trigger locks (SELECT ... FOR UPDATE), so
 * concurrent writers to one trial link one after another and a chain never forks; under READ COMMITTED
 * a waiter re-reads the head its predecessor committed. Rows written before this migration are linked
 * here in id order.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    CREATE FUNCTION audit_chain_payload(
      chain text, seq bigint, id bigint, occurred_at timestamptz, actor_key_id uuid, actor_role text, action text,
      entity_type text, entity_id text, before jsonb, after jsonb, reason text, request_id text
    ) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT jsonb_build_array(
        chain, seq, id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        actor_key_id, actor_role, action, entity_type, entity_id, before, after, reason, request_id
      )::text
    $$;
    COMMENT ON FUNCTION audit_chain_payload IS 'The text each audit row hash covers (after the previous hash); see docs/security.md';

    CREATE FUNCTION audit_chain_hash(previous_hash bytea, payload text) RETURNS bytea
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT sha256(coalesce(previous_hash, ''::bytea) || convert_to(payload, 'UTF8'))
    $$;

    CREATE TABLE audit_chain_heads (
      trial_id uuid PRIMARY KEY REFERENCES trials (trial_id),
      last_seq bigint NOT NULL,
      last_hash bytea
    );
    COMMENT ON TABLE audit_chain_heads IS 'Head (last sequence and hash) of each trial''s audit chain; locked by the audit trigger so a chain never forks';

    CREATE TABLE system_audit_chain_head (
      chain text PRIMARY KEY CHECK (chain = 'system'),
      last_seq bigint NOT NULL,
      last_hash bytea
    );
    COMMENT ON TABLE system_audit_chain_head IS 'Head of the chain of system_audit_events (one row)';
    INSERT INTO system_audit_chain_head (chain, last_seq, last_hash) VALUES ('system', 0, NULL);

    ALTER TABLE audit_events ADD COLUMN chain_seq bigint, ADD COLUMN previous_hash bytea, ADD COLUMN row_hash bytea;
    ALTER TABLE system_audit_events ADD COLUMN chain_seq bigint, ADD COLUMN previous_hash bytea, ADD COLUMN row_hash bytea;
    COMMENT ON COLUMN audit_events.chain_seq IS 'Position in the trial''s audit chain: 1, 2, 3, ... without gaps';
    COMMENT ON COLUMN audit_events.previous_hash IS 'row_hash of the previous row of the chain; NULL for the first';
    COMMENT ON COLUMN audit_events.row_hash IS 'SHA-256(previous_hash || audit_chain_payload(...)); see docs/security.md';

    -- Link the rows written before this migration, oldest first.
    ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
    ALTER TABLE system_audit_events DISABLE TRIGGER system_audit_events_append_only;
    DO $$
    DECLARE
      r record;
      prev bytea;
      current_trial uuid;
      seq bigint;
    BEGIN
      FOR r IN SELECT * FROM audit_events ORDER BY trial_id, id LOOP
        IF current_trial IS DISTINCT FROM r.trial_id THEN
          IF current_trial IS NOT NULL THEN
            INSERT INTO audit_chain_heads VALUES (current_trial, seq, prev);
          END IF;
          current_trial := r.trial_id; prev := NULL; seq := 0;
        END IF;
        seq := seq + 1;
        UPDATE audit_events SET chain_seq = seq, previous_hash = prev,
          row_hash = audit_chain_hash(prev, audit_chain_payload(r.trial_id::text, seq, r.id, r.occurred_at, r.actor_key_id,
            r.actor_role, r.action, r.entity_type, r.entity_id, r.before, r.after, r.reason, r.request_id))
          WHERE trial_id = r.trial_id AND id = r.id
          RETURNING row_hash INTO prev;
      END LOOP;
      IF current_trial IS NOT NULL THEN
        INSERT INTO audit_chain_heads VALUES (current_trial, seq, prev);
      END IF;
      prev := NULL; seq := 0;
      FOR r IN SELECT * FROM system_audit_events ORDER BY id LOOP
        seq := seq + 1;
        UPDATE system_audit_events SET chain_seq = seq, previous_hash = prev,
          row_hash = audit_chain_hash(prev, audit_chain_payload('system', seq, r.id, r.occurred_at, r.actor_key_id,
            r.actor_role, r.action, r.entity_type, r.entity_id, r.before, r.after, r.reason, r.request_id))
          WHERE id = r.id
          RETURNING row_hash INTO prev;
      END LOOP;
      UPDATE system_audit_chain_head SET last_seq = seq, last_hash = prev;
    END
    $$;
    ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
    ALTER TABLE system_audit_events ENABLE TRIGGER system_audit_events_append_only;

    ALTER TABLE audit_events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;
    ALTER TABLE system_audit_events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_chain_seq UNIQUE (trial_id, chain_seq);
    ALTER TABLE system_audit_events ADD CONSTRAINT system_audit_events_chain_seq UNIQUE (chain_seq);

    CREATE FUNCTION link_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
    CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION link_audit_event();

    CREATE FUNCTION link_system_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      head_seq bigint;
      head_hash bytea;
    BEGIN
      SELECT last_seq, last_hash INTO head_seq, head_hash FROM system_audit_chain_head WHERE chain = 'system' FOR UPDATE;
      NEW.chain_seq := head_seq + 1;
      NEW.previous_hash := head_hash;
      NEW.row_hash := audit_chain_hash(head_hash, audit_chain_payload('system', NEW.chain_seq, NEW.id, NEW.occurred_at,
        NEW.actor_key_id, NEW.actor_role, NEW.action, NEW.entity_type, NEW.entity_id, NEW.before, NEW.after, NEW.reason, NEW.request_id));
      UPDATE system_audit_chain_head SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash WHERE chain = 'system';
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER system_audit_events_link BEFORE INSERT ON system_audit_events FOR EACH ROW EXECUTE FUNCTION link_system_audit_event();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    DROP TRIGGER system_audit_events_link ON system_audit_events;
    DROP TRIGGER audit_events_link ON audit_events;
    DROP FUNCTION link_system_audit_event();
    DROP FUNCTION link_audit_event();
    ALTER TABLE system_audit_events DROP COLUMN chain_seq, DROP COLUMN previous_hash, DROP COLUMN row_hash;
    ALTER TABLE audit_events DROP COLUMN chain_seq, DROP COLUMN previous_hash, DROP COLUMN row_hash;
    DROP TABLE system_audit_chain_head;
    DROP TABLE audit_chain_heads;
    DROP FUNCTION audit_chain_hash(bytea, text);
    DROP FUNCTION audit_chain_payload(text, bigint, bigint, timestamptz, uuid, text, text, text, text, jsonb, jsonb, text, text);
  `);
}
