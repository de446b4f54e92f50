// CSV injection: text a spreadsheet would run as a formula (a leading =, +, -, @, tab or CR) comes
// out of the csv export with a leading ' (OWASP), in text columns only; numbers stay numbers.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { csvField } from '../../supabase/functions/_shared/export-formats.ts';
import { CSV_COLUMNS } from '../../shared/contract/query.ts';
import { call } from '../support/http.ts';
import { calc } from '../support/payloads.ts';
import { newUser, type TestUser } from '../support/users.ts';

describe('csvField', () => {
  it('neutralises formula prefixes in text and leaves numbers alone', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-40.1')).toBe("'-40.1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('\rx')).toBe('"\'\rx"');
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvField(['=1+1', 'ok'])).toBe("'=1+1;ok");
    expect(csvField(['ok', '=1+1'])).toBe('ok;=1+1');
    expect(csvField('water')).toBe('water');
    expect(csvField(-40.1)).toBe('-40.1');
    expect(csvField(-1)).toBe('-1');
    expect(csvField(false)).toBe('false');
    expect(csvField(null)).toBe('');
  });
});

describe('csv export', () => {
  let user: TestUser;

  beforeAll(async () => {
    user = await newUser();
    const res = await call('ingest', {
      method: 'POST',
      token: user.token,
      body: { calculations: [calc({ energy: -40.1, extra: { tags: ['=1+1'], source: '@cmd' } })] },
    });
    expect(res.status).toBe(200);
  });

  it('writes a tag =1+1 neutralised and an energy -40.1 as a number', async () => {
    const res = await fetch(`${inject('stack').url}/functions/v1/query/export?format=csv`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(200);
    const [header, row, ...rest] = (await res.text()).trimEnd().split('\r\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(rest).toEqual([]);
    const cells = row.split(',');
    const cell = (name: (typeof CSV_COLUMNS)[number]) => cells[CSV_COLUMNS.indexOf(name)];
    expect(cell('tags')).toBe("'=1+1");
    expect(cell('source')).toBe("'@cmd");
    expect(cell('total_energy_eh')).toBe('-40.1');
    expect(Number(cell('total_energy_eh'))).toBe(-40.1);
  });
});
