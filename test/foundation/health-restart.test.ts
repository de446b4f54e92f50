// The database goes away and comes back while Deno keeps running: 503 fast, then 200 again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.destroy();
});

async function health(key = stack.serviceRoleKey) {
  const started = Date.now();
  const res = await fetch(`${stack.url}/functions/v1/health`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json(), ms: Date.now() - started };
}

describe('health across a database restart', () => {
  it('answers 503 within 3 s while Postgres is down and 200 once it is back, without restarting Deno', async () => {
    const denoPid = stack.functions.pid();
    expect((await health()).status).toBe(200);

    await stack.postgres!.stop();
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.ms).toBeLessThan(3000);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.database.reachable).toBe(false);
    expect(down.body.database.error).toBeTypeOf('string');
    // The anon key hears that it is down, not why.
    const anonDown = await health(stack.anonKey);
    expect(anonDown.status).toBe(503);
    expect(anonDown.body).toEqual({ status: 'unavailable' });

    await stack.postgres!.restart();
    let up = await health();
    for (let i = 0; i < 20 && up.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      up = await health();
    }
    expect(up.status).toBe(200);
    expect(up.body.database.reachable).toBe(true);
    expect(stack.functions.pid()).toBe(denoPid);
  });
});
