// Bad command-line arguments: the scripts exit 2 with the message on one line and the usage after it.
export class UsageError extends Error {
  override name = 'UsageError';
}
