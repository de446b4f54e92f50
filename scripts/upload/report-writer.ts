// --report FILE: one JSON line per job, written as each job gets its outcome (so a killed run leaves
// the lines of the jobs it finished), waiting for the disk when the stream's buffer is full.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { JobReport } from './outcomes.ts';

export class ReportWriter {
  private failure: Error | undefined;

  private constructor(private readonly stream: WriteStream) {
    stream.on('error', (err) => { this.failure = err; });
  }

  /** Opens (and truncates) the file; rejects when it cannot be created. */
  static async open(file: string): Promise<ReportWriter> {
    const stream = createWriteStream(file, { flags: 'w', encoding: 'utf8' });
    await Promise.race([
      once(stream, 'open'),
      once(stream, 'error').then(([err]) => { throw err; }),
    ]);
    return new ReportWriter(stream);
  }

  async write(report: JobReport): Promise<void> {
    if (this.failure) throw this.failure;
    const line: JobReport = {
      path: report.path, job_id: report.job_id, outcome: report.outcome,
      calculation_id: report.calculation_id, molecule_id: report.molecule_id,
      warnings: report.warnings, error: report.error, already_stored: report.already_stored,
    };
    if (!this.stream.write(JSON.stringify(line) + '\n')) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.stream.closed) return;
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (this.failure) throw this.failure;
  }
}
