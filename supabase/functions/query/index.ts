// Entry point of the query function.
import { app } from './app.ts';

Deno.serve(app.fetch);
