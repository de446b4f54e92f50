// Entry point of the datasets function.
import { app } from './app.ts';

Deno.serve(app.fetch);
