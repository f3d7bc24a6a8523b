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
    [Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }), 2],
    [withCode('57014', 'canceling statement due to statement timeout'), 2],
  ])('maps %s to 503 with Retry-After', (error, retryAfter) => {
    const problem = databaseUnavailable(error);
    expect(problem?.status).toBe(503);
    expect(problem?.headers['Retry-After']).toBe(String(retryAfter));
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
