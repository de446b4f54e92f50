// Entry point of the ingest function.
import { app } from './app.ts';

Deno.serve(app.fetch);
