import type { Knex } from 'knex';
import { runSqlScript } from '../src/db/sql-script';

/*
 * Personal sign-in for the console (#17): users with the same role, trial/site scope and blinding as API keys,
 * a one-time set-password token (digest only), and server-side sessions (digest of the cookie value only).
 * Users are deactivated, never deleted.
 */
export async function up(knex: Knex): Promise<void> {
  await runSqlScript(
    knex,
    `
    CREATE TABLE users (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'coordinator', 'statistician', 'monitor')),
      trial_ids uuid[],
      site_codes text[],
      blinded boolean NOT NULL DEFAULT false,
      password_hash text,
      password_set_at timestamptz,
      set_password_token_digest text,
      set_password_expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      deactivated_at timestamptz,
      CONSTRAINT users_admin_not_blinded CHECK (NOT (blinded AND role = 'admin'))
    );
    CREATE UNIQUE INDEX users_email ON users (lower(email));
    CREATE UNIQUE INDEX users_set_password_token ON users (set_password_token_digest);
    COMMENT ON TABLE users IS 'People who sign in to the console; scoped like API keys; deactivated, never deleted';
    COMMENT ON COLUMN users.password_hash IS 'scrypt$N$r$p$salt$hash (base64url); the password itself is never stored';
    COMMENT ON COLUMN users.set_password_token_digest IS 'SHA-256 (hex) of the one-time set-password token';

    CREATE TABLE sessions (
      id_digest text PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      ended_at timestamptz
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    COMMENT ON TABLE sessions IS 'Console sessions; the cookie holds a random id, only its SHA-256 is stored';
    COMMENT ON COLUMN sessions.expires_at IS 'Absolute end of the session (created_at + the absolute lifetime)';
    `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runSqlScript(knex, `DROP TABLE sessions; DROP TABLE users;`);
}
