// Export the current filter as a file: the bytes arrive through the shared client's exportStream
// (a streamed fetch with the user's token), are counted as they come, and are saved with a link.
import { exportStream, type ExportParams } from '../../shared/client-query.ts';
import { EXPORT_CONTENT_TYPES, type ExportFormat } from '../../shared/contract/query.ts';
import type { Session } from './session.ts';

export interface ExportProgress {
  bytes: number;
  /** Calculations written so far (frames, lines or rows). */
  records: number;
}

/** Counts records in a text stream, line by line, across chunk boundaries. */
function recordCounter(format: ExportFormat): (chunk: Uint8Array, last?: boolean) => number {
  const decoder = new TextDecoder();
  let carry = '';
  let lines = 0;
  let records = 0;
  return (chunk, last = false) => {
    const text = carry + decoder.decode(chunk, { stream: !last });
    const parts = text.split('\n');
    carry = last ? '' : parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      lines += 1;
      // extxyz: one comment line with Properties= per frame; csv: a header line, then a row per calculation.
      if (format === 'extxyz') records += line.includes('Properties=') ? 1 : 0;
      else if (format === 'ndjson' || lines > 1) records += 1;
    }
    return records;
  };
}

export async function exportToFile(
  session: Session,
  projectUrl: string,
  params: Omit<ExportParams, 'format'>,
  format: ExportFormat,
  onProgress: (p: ExportProgress) => void,
  signal?: AbortSignal,
): Promise<ExportProgress & { filename: string }> {
  const count = recordCounter(format);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const progress: ExportProgress = { bytes: 0, records: 0 };
  const stream = exportStream({ url: projectUrl, token: await session.token(), params: { ...params, format }, signal });
  for await (const chunk of stream) {
    chunks.push(chunk as Uint8Array<ArrayBuffer>);
    progress.bytes += chunk.byteLength;
    progress.records = count(chunk);
    onProgress(progress);
  }
  progress.records = count(new Uint8Array(), true);
  onProgress(progress);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const filename = `calculations-${stamp}.${format}`;
  const url = URL.createObjectURL(new Blob(chunks, { type: EXPORT_CONTENT_TYPES[format] }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { ...progress, filename };
}
