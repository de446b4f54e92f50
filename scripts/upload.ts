// `npm run upload -- --jobs-root DIR [--user-id UUID] [--dry-run] [--limit N] [--concurrency N] [--report FILE]`:
// brings a tree of Quantum Forge job directories into the database. See scripts/upload/main.ts.
// Ctrl-C once finishes the jobs in hand and prints the summary; twice stops at once (re-running is safe).
import { main } from './upload/main.ts';

const stop = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (stop.signal.aborted) process.exit(130);
  process.stderr.write(`\nupload: ${signal}: finishing the jobs in hand (again to stop now)\n`);
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  process.exitCode = await main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: stop.signal,
  });
} catch (err) {
  // Not a job's failure (those are in the report) but the uploader's own, e.g. the report's disk is full.
  process.stderr.write(`upload: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
}
// supabase-js may keep sockets alive; the work is done.
process.exit();
