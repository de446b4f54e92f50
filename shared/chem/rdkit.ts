// Loads RDKit's WASM module once per process (Node) or isolate (Deno).
import initRDKitModule from '@rdkit/rdkit';
import type { RDKitModule } from './molecule.ts';

let loading: Promise<RDKitModule> | undefined;

export function loadRDKit(): Promise<RDKitModule> {
  loading ??= (initRDKitModule as unknown as () => Promise<RDKitModule>)();
  return loading;
}
