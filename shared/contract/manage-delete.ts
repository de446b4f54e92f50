// The query string of DELETE /ingest/molecules/:id and /ingest/calculations/:id. It belongs with
// the other management shapes in manage.ts; kept in its own file while manage.ts is being reworked.
import { z } from 'zod';
import { Uuid } from './common.ts';

export const DeleteEntityQuery = z.object({
  /** Required with the service-role key: whose row to delete. */
  user_id: Uuid.optional(),
  /**
   * Molecules: cancel the pending or claimed batch items that still need it, then delete. Both: a
   * published release holding the calculation(s) is withdrawn (with this delete as its reason)
   * instead of answering 409.
   */
  force: z.enum(['true', 'false']).optional(),
}).strict();
export type DeleteEntityQuery = z.input<typeof DeleteEntityQuery>;
