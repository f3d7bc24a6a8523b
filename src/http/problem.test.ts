import { databaseUnavailable } from './problem';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('databaseUnavailable', () => {
  it.each([
    [withCode('ECONNREFUSED'), 5],
    [withCode('57P01', 'terminating connection due to administrator command'), 5],
    [withCode('57P03', 'the database system is starting up'), 5],
    [withCode('08006'), 5],
    [new Error('Connection terminated unexpectedly'), 5],
    [new Error('Client has encountered a connection error and is not queryable'), 5],
    // as knex rethrows them: the failed SQL, " - ", pg's message
    [
      new Error(
        'select * from "api_keys" where "key_digest" = $1 and "revoked_at" is null limit $2 - Connection terminated unexpectedly',
      ),
      5,
    ],
    [new Error('ROLLBACK - Client has encountered a connection error and is not queryable'), 5],
    [
      Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), {
        name: 'KnexTimeoutError',
      }),
      2,
    ],
    [withCode('57014', 'canceling statement due to statement timeout'), 2],
  ])('maps %s to 503 with Retry-After', (error, retryAfter) => {
    const problem = databaseUnavailable(error);
    expect(problem?.status).toBe(503);
    expect(problem?.headers['Retry-After']).toBe(String(retryAfter));
  });

  it.each([
    [new Error('COMMIT; - Connection terminated unexpectedly')],
    [withCode('57P01', 'COMMIT; - terminating connection due to administrator command')],
  ])('answers %s 503 without claiming that nothing was written', (error) => {
    const problem = databaseUnavailable(error);
    expect(problem?.status).toBe(503);
    expect(problem?.message).toMatch(/may or may not have been written/);
  });

  it.each([
    [withCode('23505', 'duplicate key')],
    [withCode('22P02', 'invalid input syntax')],
    [withCode('XX000', 'Connection terminated')],
    [new TypeError('Cannot read properties of undefined')],
    ['a string'],
    [null],
  ])('leaves %s alone', (error) => {
    expect(databaseUnavailable(error)).toBeUndefined();
  });
});
