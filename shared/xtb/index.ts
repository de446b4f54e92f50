// The xtb parser's public surface: pure parsers (strings in) plus the one file-system module.
export * from './text.ts';
export * from './xyz.ts';
export * from './xtbout-json.ts';
export * from './charges.ts';
export * from './gradient.ts';
export * from './xtb-out.ts';
export * from './metadata.ts';
export * from './results-json.ts';
export * from './job.ts';
export * from './read-job.ts';
export * from './classify-failure.ts';
export * from './xtb-args.ts';
export * from './version.ts';
export * from './provenance.ts';
