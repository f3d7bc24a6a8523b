import { splitSqlStatements } from './sql-script';

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons', () => {
    expect(splitSqlStatements('CREATE TABLE a (x int); CREATE TABLE b (y int);')).toEqual([
      'CREATE TABLE a (x int)',
      'CREATE TABLE b (y int)',
    ]);
  });

  it('keeps semicolons inside quotes, doubled quotes and dollar-quoted bodies', () => {
    const script = `COMMENT ON TABLE a IS 'one; two''s';
      CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x;y'; END; $$;
      SELECT "odd;name" FROM a`;
    const statements = splitSqlStatements(script);
    expect(statements).toHaveLength(3);
    expect(statements[0]).toBe("COMMENT ON TABLE a IS 'one; two''s'");
    expect(statements[1]).toContain("RAISE EXCEPTION 'x;y'; END; $$");
    expect(statements[2]).toBe('SELECT "odd;name" FROM a');
  });

  it('drops line comments, including ones holding semicolons', () => {
    expect(splitSqlStatements('-- a; b\nSELECT 1; -- c;\n')).toEqual(['SELECT 1']);
  });

  it('refuses unterminated quotes rather than guessing', () => {
    expect(() => splitSqlStatements("SELECT 'x")).toThrow(/unterminated/);
    expect(() => splitSqlStatements('SELECT $$x')).toThrow(/unterminated/);
  });
});
