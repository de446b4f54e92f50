// Every tool answers `--help` with its usage on stdout and exit 0, and an unknown flag with one line
// naming it, the usage, and exit 2 — no stack trace. `npm start` and `npm run token` run as child
// processes as users run them; the uploader and the runner through their injected `main(argv, io)`
// (their CLI exit codes are in test/upload/cli.test.ts and test/runner/cli.test.ts); the bench
// scripts that take arguments through tsx.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { asksForHelp, HelpRequested, parseCli, UsageError } from '../../scripts/lib/cli-args.ts';
import { main as runnerMain } from '../../scripts/runner/main.ts';
import { repoPath } from '../../scripts/stack/paths.ts';
import { main as uploadMain } from '../../scripts/upload/main.ts';

// Each spawned tool starts node and tsx: allow for a busy machine.
vi.setConfig({ testTimeout: 120_000 });

interface Run { code: number | null; stdout: string; stderr: string }

function run(command: string, args: string[]): Promise<Run> {
  // No Supabase settings: --help must not need a stack.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SUPABASE_|QF_)/.test(k)));
  const child = spawn(command, args, { cwd: repoPath('.'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const TSX = repoPath('node_modules/.bin/tsx');
type Tool = { name: string; run: (flag: string) => Promise<Run>; usage: RegExp };

/** A main(argv, io) called in-process, its streams collected. */
async function inProcess(main: typeof uploadMain | typeof runnerMain, argv: string[]): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => { stdout += d; });
  err.on('data', (d) => { stderr += d; });
  const code = await main(argv, { env: {}, stdout: out as never, stderr: err as never, stackEnv: async () => ({}) });
  return { code, stdout, stderr };
}

const TOOLS: Tool[] = [
  // --help through npm, as the README writes it; the unknown flag straight to the script.
  { name: 'start', run: (flag) => (flag === '--help' ? run('npm', ['start', '-s', '--', flag]) : run(TSX, ['scripts/start.ts', flag])), usage: /^usage: npm start -- / },
  { name: 'token', run: (flag) => (flag === '--help' ? run('npm', ['run', '-s', 'token', '--', flag]) : run(TSX, ['scripts/token.ts', flag])), usage: /^usage: npm run -s token -- --user <uuid> \[--create\]/ },
  { name: 'upload', run: (flag) => inProcess(uploadMain, [flag]), usage: /^usage: npm run upload -- --jobs-root DIR/ },
  { name: 'release', run: (flag) => (flag === '--help' ? run('npm', ['run', '-s', 'release', '--', flag]) : run(TSX, ['scripts/release.ts', flag])), usage: /^usage: npm run release -- --dataset NAME/ },
  { name: 'runner', run: (flag) => inProcess(runnerMain, [flag]), usage: /^usage: npm run runner -- / },
  { name: 'make-jobs', run: (flag) => run(TSX, ['bench/make-jobs.ts', flag]), usage: /^usage: npx tsx bench\/make-jobs\.ts / },
  { name: 'openapi', run: (flag) => (flag === '--help' ? run('npm', ['run', '-s', 'openapi', '--', flag]) : run(TSX, ['scripts/openapi.ts', flag])), usage: /^usage: npm run openapi / },
  { name: 'backfill:molecule-keys', run: (flag) => (flag === '--help' ? run('npm', ['run', '-s', 'backfill:molecule-keys', '--', flag]) : run(TSX, ['scripts/backfill-molecule-keys.ts', flag])), usage: /^usage: npm run backfill:molecule-keys / },
  { name: 'seed-calculations', run: (flag) => run(TSX, ['bench/seed-calculations.ts', flag]), usage: /^usage: npx tsx bench\/seed-calculations\.ts / },
];

describe.each(TOOLS)('$name', ({ name, run: runTool, usage }) => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const r = await runTool('--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stdout).toContain('--help');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown flag is named on stderr, with the usage, exit 2', async () => {
    const r = await runTool('--frobnicate');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l && !/Node\.js 20/.test(l));
    expect(lines[0]).toBe(`${name}: Unknown option '--frobnicate'`);
    expect(lines[1]).toMatch(usage);
    expect(r.stderr).not.toMatch(/\n\s+at |ERR_PARSE_ARGS/);
  });
});

describe('parseCli', () => {
  const options = { user: { type: 'string' }, create: { type: 'boolean' } } as const;

  it('parses strictly and asks for help on --help or -h anywhere before --', () => {
    expect(parseCli(['--user', 'u', '--create'], { options }).values).toMatchObject({ user: 'u', create: true });
    expect(() => parseCli(['--help'], { options })).toThrow(HelpRequested);
    expect(() => parseCli(['--user', 'u', '-h'], { options })).toThrow(HelpRequested);
    // Help wins over other mistakes: the user asked what the flags are.
    expect(() => parseCli(['--bogus', '--help'], { options })).toThrow(HelpRequested);
    expect(asksForHelp(['--', '--help'])).toBe(false);
  });

  it.each([
    [['--bogus'], /^Unknown option '--bogus'$/],
    [['--user'], /^Option '--user <value>' argument missing$/],
    [['extra'], /^Unexpected argument 'extra'/],
    [['--user', '--create'], /^Option '--user' argument is ambiguous\.$/],
  ])('%j → one-line UsageError %s', (argv, message) => {
    let error: unknown;
    try {
      parseCli(argv, { options, allowPositionals: false });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });
});
