/** The PostgreSQL store on a real, throwaway PostgreSQL server: the shared store contract, and a clear error for an unreachable server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from './pg-store.js';
import { storeContract } from './store-contract.js';
import { startTestPostgres, type TestPostgres } from './pg-testing.js';

let server: TestPostgres;
before(async () => {
  server = await startTestPostgres();
});
after(() => server?.stop());

storeContract('postgres', () => ({
  fresh: () => server.database(),
  open: (url, options) => PostgresStore.open(url, options),
}));

test('postgres: an unreachable server is one clear error naming the URL without its password', async () => {
  await assert.rejects(PostgresStore.open('postgresql://fedrec:secret@127.0.0.1:1/nothing'), (err: Error) => {
    assert.match(err.message, /cannot open the PostgreSQL store postgresql:\/\/fedrec:\*\*\*@127\.0\.0\.1:1\/nothing: /);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
});
