// Entry point of the health function.
import { app } from './app.ts';

Deno.serve(app.fetch);
