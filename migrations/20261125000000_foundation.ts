import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Foundation schema: API keys, trials and their configuration, sites, and the append-only audit trail.
 *
 * Distribution rule (docs/scaling.md): every table carries trial_id and every primary key and unique
 * constraint includes it, except the reference tables (trials, api_keys, system_audit_events), which
 * are small, global and would be replicated to every node on Citus.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      role text NOT NULL CHECK (role IN ('admin', 'coordinator', 'statistician', 'monitor')),
      key_digest text NOT NULL UNIQUE CHECK (key_digest ~ '^[0-9a-f]{64}$'),
      prefix text NOT NULL,
      trial_ids uuid[],
      site_codes text[],
      is_bootstrap boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      CHECK (site_codes IS NULL OR (role = 'coordinator' AND cardinality(trial_ids) = 1))
    );
    COMMENT ON COLUMN api_keys.key_digest IS 'SHA-256 (hex) of the key; the key itself is never stored';
    COMMENT ON COLUMN api_keys.prefix IS 'First characters of the key, shown so people can tell keys apart';
    COMMENT ON COLUMN api_keys.trial_ids IS 'Trials the key is limited to; NULL means every trial';
    COMMENT ON COLUMN api_keys.site_codes IS 'Sites a coordinator key is limited to within its one trial; NULL means every site';
    COMMENT ON COLUMN api_keys.is_bootstrap IS 'Created at start-up from ADMIN_API_KEY or printed once on first start';

    CREATE TABLE trials (
      trial_id uuid PRIMARY KEY,
      code text NOT NULL UNIQUE,
      title text NOT NULL,
      registry text,
      status text NOT NULL DEFAULT 'setup' CHECK (status IN ('setup', 'active', 'closed')),
      randomization jsonb NOT NULL,
      eligibility jsonb NOT NULL DEFAULT '[]',
      baseline_variables jsonb NOT NULL DEFAULT '[]',
      version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      activated_at timestamptz,
      CHECK ((status = 'setup') = (activated_at IS NULL))
    );
    COMMENT ON COLUMN trials.randomization IS 'Randomization method and parameters as the API accepts them';
    COMMENT ON COLUMN trials.eligibility IS 'Ordered inclusion/exclusion criteria (code, kind, text, roles)';
    COMMENT ON COLUMN trials.baseline_variables IS 'Ordered baseline variable definitions (name, type, levels, min, max, roles, required)';
    COMMENT ON COLUMN trials.version IS 'Incremented on every change of the configuration; the ETag';

    CREATE TABLE trial_arms (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      code text NOT NULL,
      name text NOT NULL,
      ratio integer NOT NULL CHECK (ratio > 0),
      position integer NOT NULL,
      PRIMARY KEY (trial_id, code),
      UNIQUE (trial_id, position)
    );
    COMMENT ON COLUMN trial_arms.position IS 'Order of the arms in the trial configuration (0-based)';

    CREATE TABLE trial_sites (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      code text NOT NULL,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, code)
    );

    CREATE TABLE consent_forms (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      code text NOT NULL,
      version text NOT NULL,
      required boolean NOT NULL,
      title text,
      position integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, code, version)
    );
    COMMENT ON COLUMN consent_forms.position IS 'Order in the trial configuration; later versions of a form come after earlier ones';

    CREATE TABLE incentive_types (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      code text NOT NULL,
      description text NOT NULL,
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      roles text[] NOT NULL CHECK (cardinality(roles) > 0),
      max_per_participant integer NOT NULL CHECK (max_per_participant > 0),
      occasion text,
      position integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trial_id, code)
    );
    COMMENT ON COLUMN incentive_types.amount_minor IS 'Amount in minor units of the currency (HK$50 = 5000)';

    CREATE TABLE audit_events (
      trial_id uuid NOT NULL REFERENCES trials (trial_id),
      id bigserial NOT NULL,
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor_key_id uuid,
      actor_role text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text NOT NULL,
      before jsonb,
      after jsonb,
      reason text,
      request_id text,
      PRIMARY KEY (trial_id, id)
    );
    COMMENT ON COLUMN audit_events.actor_key_id IS 'API key that made the change; NULL for the service itself';
    COMMENT ON COLUMN audit_events.request_id IS 'The X-Request-Id of the HTTP request, to join with the logs';
    CREATE INDEX audit_events_entity ON audit_events (trial_id, entity_type, entity_id, id);

    CREATE TABLE system_audit_events (
      id bigserial PRIMARY KEY,
      occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor_key_id uuid,
      actor_role text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text NOT NULL,
      before jsonb,
      after jsonb,
      reason text,
      request_id text
    );
    COMMENT ON TABLE system_audit_events IS 'Audit rows of changes that belong to no trial (API keys)';

    -- 21 CFR 11.10(e): audit trails must not obscure previously recorded information.
    CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit rows are append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END;
    $$;
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
    CREATE TRIGGER system_audit_events_append_only BEFORE UPDATE OR DELETE ON system_audit_events
      FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
    CREATE TRIGGER system_audit_events_no_truncate BEFORE TRUNCATE ON system_audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `
    DROP TABLE system_audit_events;
    DROP TABLE audit_events;
    DROP FUNCTION refuse_audit_change();
    DROP TABLE incentive_types;
    DROP TABLE consent_forms;
    DROP TABLE trial_sites;
    DROP TABLE trial_arms;
    DROP TABLE trials;
    DROP TABLE api_keys;
  `);
}
