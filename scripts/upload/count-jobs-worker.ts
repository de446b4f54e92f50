// Counts the job directories below a root on a worker thread, so the progress bar can show a total
// and an ETA without slowing the upload's own walk: it shares no event loop with it. Posts the count
// as it grows (at most every 200 ms) and once more, final, at the end. Holds no paths.
import { parentPort, workerData } from 'node:worker_threads';
import { walkJobs } from '../../shared/xtb/read-job.ts';

const { root, limit } = workerData as { root: string; limit?: number };
let n = 0;
let last = 0;
for await (const ev of walkJobs(root)) {
  if (ev.kind !== 'job') continue;
  n++;
  if (limit !== undefined && n >= limit) break;
  if (Date.now() - last >= 200) {
    last = Date.now();
    parentPort!.postMessage({ n, final: false });
  }
}
parentPort!.postMessage({ n, final: true });
