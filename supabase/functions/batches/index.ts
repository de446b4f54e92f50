// Entry point of the batches function.
import { app } from './app.ts';

Deno.serve(app.fetch);
